"""Issue 19 (part 5): Alipay and WeChat Pay both offered, the member choosing on the pay step.
An unpaid order switches gateway; no payment is lost or taken twice whatever order the
gateways' signed notices (from the local stand-ins) arrive in, and the money that must go back
goes back through the gateway that took it."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from appointments.choices import AppointmentStatus
from billing import exceptions as errors
from billing import services
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import get_gateway, member_gateways
from billing.models import GatewayNotification, Order, Refund
from medbook.models import OperationLog
from tests.appointments.factories import ScheduleFactory
from tests.billing.alipay_pay import alipay_notification
from tests.billing.factories import book, run_refunds
from tests.billing.wechat_pay import NOTIFY_URL as WECHAT_NOTIFY_URL
from tests.billing.wechat_pay import notification, signed_headers
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

ALIPAY_TRADE = "2026112422001448621414433888"
WECHAT_TRADE = "4200000000202611240000000001"  # the stand-in's notification


@pytest.fixture
def both(wechat, fake_wechat, alipay_also, alipay_cashier):
    """WeChat Pay is the clinic's gateway, Alipay is set up too: the member may choose."""
    assert member_gateways() == ["wechat", "alipay"]
    return fake_wechat, alipay_cashier


@pytest.fixture
def order(both, member) -> Order:
    """Member A's unpaid ¥60 booking, opened as a WeChat Pay order."""
    return book(member, ScheduleFactory(fee=Decimal("60.00"))).order


def pay_url(order: Order) -> str:
    return reverse("billing:appointment_pay", args=[order.appointment_id])


def wechat_paid(client, wechat_keys, order: Order):
    body = notification(order)
    headers = signed_headers(wechat_keys["wechat"], body)
    return client.post(
        WECHAT_NOTIFY_URL, body.encode(), content_type="application/json", headers=headers
    )


def alipay_paid(client, alipay_keys, order: Order, trade_no: str = ALIPAY_TRADE):
    return client.post(
        "/payments/notify/alipay/",
        alipay_notification(alipay_keys, order, trade_no=trade_no),
        content_type="application/x-www-form-urlencoded",
    )


def choose(client, order: Order, gateway: str):
    return client.post(pay_url(order), {"gateway": gateway})


def test_the_pay_step_offers_both_with_a_hint(client, member, order) -> None:
    client.force_login(member.user)
    client.cookies["django_language"] = "zh-hans"

    response = client.get(pay_url(order))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="wechat"' in page and 'value="alipay"' in page
    assert "微信支付" in page and "支付宝" in page and "扫一扫" in page and "¥60.00" in page
    # The choice is posted here and sent on to Alipay's cashier: form-action allows it.
    assert "form-action 'self' http://127.0.0.1:" in response["Content-Security-Policy"]


def test_wechat_then_alipay_then_paid_at_alipay_is_paid_once(
    client, member, order, both, alipay_keys
) -> None:
    fake_wechat, cashier = both
    client.force_login(member.user)

    to_wechat = choose(client, order, "wechat")
    assert to_wechat["Location"] == reverse("billing:wechat_checkout", args=[order.appointment_id])
    assert client.get(to_wechat["Location"]).status_code == 200  # the QR code: a prepay placed
    assert list(fake_wechat.prepaid) == [order.out_trade_no]
    to_alipay = choose(client, order, "alipay")

    assert to_alipay["Location"].startswith(cashier.url + "/gateway.do?")
    query = dict(parse_qsl(urlparse(to_alipay["Location"]).query))
    assert query["method"] == "alipay.trade.page.pay"
    order.refresh_from_db()
    assert order.gateway == "alipay"
    assert alipay_paid(client, alipay_keys, order).content == b"success"
    order.refresh_from_db()
    assert (order.status, order.gateway, order.gateway_trade_no) == (
        OrderStatus.PAID,
        "alipay",
        ALIPAY_TRADE,
    )
    assert order.appointment.status == AppointmentStatus.CONFIRMED
    assert not Refund.objects.exists()
    switches = [(h.gateway, h.history_change_reason) for h in order.history.order_by("history_id")]
    assert switches[:2] == [("wechat", None), ("alipay", "member chose alipay (was wechat)")]
    log = OperationLog.objects.get(action="billing.choose_gateway")
    assert (log.actor_id, log.detail) == (member.user_id, {"from": "wechat", "to": "alipay"})


def test_paid_at_the_gateway_left_behind_still_pays_and_refunds_go_back_there(
    client, member, order, both, wechat_keys
) -> None:
    fake_wechat, cashier = both
    client.force_login(member.user)
    choose(client, order, "alipay")

    assert wechat_paid(client, wechat_keys, order).status_code == 204

    order.refresh_from_db()
    assert (order.status, order.gateway, order.gateway_trade_no) == (
        OrderStatus.PAID,
        "wechat",
        WECHAT_TRADE,
    )
    assert order.appointment.status == AppointmentStatus.CONFIRMED
    services.cancel_booking(appointment=order.appointment, by=member.user, reason="会员自行取消")
    run_refunds()
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, Decimal("60.00"))
    [(_, sent, _)] = [r for r in fake_wechat.requests if r[0] == "/v3/refund/domestic/refunds"]
    assert (sent["transaction_id"], sent["amount"]["refund"]) == (WECHAT_TRADE, 6000)
    assert not [r for r in cashier.requests if r[0] == "alipay.trade.refund"]


@pytest.mark.parametrize("first", ["wechat", "alipay"])
def test_paid_at_both_the_second_is_refunded_through_its_own_gateway(
    client, member, order, both, wechat_keys, alipay_keys, first
) -> None:
    fake_wechat, cashier = both
    client.force_login(member.user)
    choose(client, order, "alipay")
    pay = {
        "wechat": lambda: wechat_paid(client, wechat_keys, order),
        "alipay": lambda: alipay_paid(client, alipay_keys, order),
    }
    second = "alipay" if first == "wechat" else "wechat"

    pay[first]()
    pay[second]()
    pay[second]()  # the gateway repeats its notice: still one refund
    run_refunds()

    order.refresh_from_db()
    assert (order.status, order.gateway, order.refunded_amount) == (
        OrderStatus.PAID,
        first,
        Decimal("0.00"),
    )
    [refund] = Refund.objects.all()
    assert (refund.status, refund.gateway, refund.amount) == (
        RefundStatus.SUCCEEDED,
        second,
        Decimal("60.00"),
    )
    outcomes = sorted(GatewayNotification.objects.values_list("gateway", "outcome"))
    assert outcomes == sorted(
        [
            (first, NotificationOutcome.APPLIED),
            (second, NotificationOutcome.REFUND_DUE),
            (second, NotificationOutcome.REFUND_DUE),
        ]
    )
    if second == "alipay":
        [(_, biz, signed)] = [r for r in cashier.requests if r[0] == "alipay.trade.refund"]
        assert (biz["out_trade_no"], biz["refund_amount"], signed) == (
            order.out_trade_no,
            "60.00",
            True,
        )
        assert not [r for r in fake_wechat.requests if "refund" in r[0]]
    else:
        [(_, sent, _)] = [r for r in fake_wechat.requests if "refund" in r[0]]
        assert (sent["transaction_id"], sent["amount"]["total"]) == (WECHAT_TRADE, 6000)
        assert not [r for r in cashier.requests if r[0] == "alipay.trade.refund"]


def test_a_closed_order_is_checked_at_every_gateway_it_was_offered_at(
    member, both, wechat_keys
) -> None:
    fake_wechat, cashier = both
    booked_at = timezone.now() - dt.timedelta(minutes=30)
    order = book(member, ScheduleFactory(fee=Decimal("60.00")), now=booked_at).order
    services.choose_gateway(order=order, gateway="alipay", by=member.user, now=booked_at)
    services.expire_unpaid_orders()
    fake_wechat.paid[order.out_trade_no] = (WECHAT_TRADE, 6000)  # its notice never came

    now = timezone.now() + dt.timedelta(minutes=5)
    assert services.check_closed_orders_with_gateways(now=now) == 1
    run_refunds()

    order.refresh_from_db()
    assert (order.status, order.gateway, order.gateway_checked_at) == (
        OrderStatus.CLOSED,
        "alipay",
        now,
    )
    [refund] = Refund.objects.all()
    assert (refund.gateway, refund.stray_trade_no, refund.status) == (
        "wechat",
        WECHAT_TRADE,
        RefundStatus.SUCCEEDED,
    )
    assert [r[0] for r in cashier.requests] == ["alipay.trade.query"]


@pytest.mark.parametrize("state", ["paid", "expired", "cancelled"])
def test_switching_is_refused_once_the_order_is_settled(
    client, member, order, wechat_keys, state
) -> None:
    if state == "paid":
        wechat_paid(client, wechat_keys, order)
        refusal = errors.AlreadyPaid
    elif state == "expired":
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now())
        refusal = errors.HoldExpired
    else:
        services.cancel_booking(appointment=order.appointment, by=member.user, reason="x")
        refusal = errors.CancelledNotPayable
    history = order.history.count()

    with pytest.raises(refusal):
        services.choose_gateway(order=order, gateway="alipay", by=member.user)

    client.force_login(member.user)
    response = choose(client, order, "alipay")
    assert response["Location"] == reverse(
        "billing:appointment_detail", args=[order.appointment_id]
    )
    # In the request's language (another test may have left a different one active here).
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        expected = str(refusal().message)
    assert expected in [str(m.message) for m in response.wsgi_request._messages]
    order.refresh_from_db()
    assert order.gateway == "wechat" and order.history.count() == history


@pytest.mark.parametrize("bad", ["", "counter", "sandbox", "paypal", "alipay' OR 1=1"])
def test_a_gateway_not_offered_is_a_400_and_writes_nothing(client, member, order, bad) -> None:
    client.force_login(member.user)
    history = order.history.count()

    response = choose(client, order, bad)

    assert response.status_code == 400
    assert "微信支付 / 支付宝" in response.content.decode()
    order.refresh_from_db()
    assert order.gateway == "wechat" and order.history.count() == history
    assert not OperationLog.objects.filter(action="billing.choose_gateway").exists()


def test_one_gateway_means_no_choice(client, member, levels) -> None:
    assert member_gateways() == ["sandbox"]
    appointment = book(member, ScheduleFactory(fee=Decimal("60.00")))
    client.force_login(member.user)

    response = client.get(pay_url(appointment.order))

    assert response.status_code == 302
    assert response["Location"].startswith("/payments/sandbox/")
    assert choose(client, appointment.order, "alipay").status_code == 400


@pytest.mark.postgres  # row locks: never on SQLite; CI fails it without PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_a_switch_racing_a_payment_never_loses_it(levels, both, wechat_keys) -> None:
    """The member switches to Alipay while WeChat Pay's notice of their payment is applied:
    whichever wins the order's lock, the order is paid once, through WeChat Pay."""
    rounds = 5
    for _ in range(rounds):
        member = MemberFactory(level=levels["钻石"])
        order = book(member, ScheduleFactory(fee=Decimal("60.00"))).order
        barrier = threading.Barrier(2)
        refusals: list[Exception] = []

        def switch(order=order, barrier=barrier, refusals=refusals, user=member.user) -> None:
            barrier.wait()
            try:
                services.choose_gateway(order=order, gateway="alipay", by=user)
            except errors.PaymentError as exc:
                refusals.append(exc)
            finally:
                connection.close()

        def pay(order=order, barrier=barrier) -> None:
            body = notification(order)
            barrier.wait()
            try:
                services.receive_notification(
                    gateway=get_gateway("wechat"),
                    body=body.encode(),
                    headers=signed_headers(wechat_keys["wechat"], body),
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=switch), threading.Thread(target=pay)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        order.refresh_from_db()
        assert (order.status, order.gateway) == (OrderStatus.PAID, "wechat")
        assert all(isinstance(r, errors.AlreadyPaid) for r in refusals)
        Order.objects.filter(pk=order.pk).update(gateway_trade_no=None)  # next round's notice
    assert not Refund.objects.exists()


def test_who_may_choose(client, member, other_member, front_desk, doctor_user, clinic_admin, order):
    anonymous = choose(client, order, "alipay")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(other_member.user)
    assert choose(client, order, "alipay").status_code == 404
    assert client.get(pay_url(order)).status_code == 404
    for staff in (front_desk, doctor_user, clinic_admin):
        client.force_login(staff)
        assert choose(client, order, "alipay").status_code == 403
    order.refresh_from_db()
    assert order.gateway == "wechat"
    client.force_login(member.user)
    assert choose(client, order, "alipay").status_code == 302
    order.refresh_from_db()
    assert order.gateway == "alipay"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_choice_speaks_one_language(client, member, both, language) -> None:
    from tests.i18n.test_mixed_scripts import (
        HAN,
        HAN_ALLOWED,
        WORD,
        WORDS_ALLOWED,
        bilingual_session,
        visible_text,
    )

    appointment = book(member, bilingual_session())
    client.force_login(member.user)
    client.post(reverse("set_language"), {"language": language, "next": "/"})

    text = visible_text(client.get(pay_url(appointment.order)).content.decode())

    if language == "en":
        assert set(HAN.findall(text)) - HAN_ALLOWED == set()
        assert "Scan a QR code with WeChat" in text and "Choose how to pay" in text
    else:
        assert set(WORD.findall(text)) - WORDS_ALLOWED == set()
        assert "选择支付方式" in text
