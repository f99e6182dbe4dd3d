"""The sandbox provider: its cashier, its own ledger and the signed notifications it sends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus, Channel
from billing import services
from billing.choices import OrderStatus
from billing.gateways import sandbox
from billing.models import GatewayNotification, Order, SandboxTrade
from medbook.models import OutboxTask
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory


def new_order(level=None, **kwargs) -> Order:
    member = MemberFactory(level=level) if level else MemberFactory()
    return services.place_booking(
        member=member,
        schedule=ScheduleFactory(fee=Decimal("50.00")),
        channel=Channel.WEB,
        **kwargs,
    ).order


@pytest.mark.core
@pytest.mark.django_db
def test_the_cashier_shows_what_is_paid_for(client, levels) -> None:
    order = new_order(levels["银卡"])

    page = client.get(sandbox.checkout_url(order)).content.decode()

    assert "¥47.50" in page
    assert order.appointment.schedule.doctor.name in page
    assert "确认支付" in page


@pytest.mark.core
@pytest.mark.django_db
def test_the_cashier_needs_the_signed_link(client, levels) -> None:
    order, other = new_order(), new_order()
    stolen = sandbox.checkout_url(other).split("?t=")[1]

    assert client.get(f"/payments/sandbox/{order.out_trade_no}/").status_code == 404
    assert client.get(f"/payments/sandbox/{order.out_trade_no}/?t={stolen}").status_code == 404
    assert client.get(f"/payments/sandbox/{order.out_trade_no}/?t=forged").status_code == 404


@pytest.mark.core
@pytest.mark.django_db
def test_confirming_records_one_payment_and_queues_its_notification(
    client, levels, django_capture_on_commit_callbacks
) -> None:
    order = new_order()
    url = sandbox.checkout_url(order)

    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(url, {"action": "pay"})

    assert "支付成功" in first.content.decode() or "已收到" in first.content.decode()
    trade = SandboxTrade.objects.get()
    assert (trade.out_trade_no, trade.amount) == (order.out_trade_no, order.amount)
    assert len(callbacks) == 1
    promised = OutboxTask.objects.get(task__startswith="billing")
    assert (promised.task, promised.args) == (
        "billing.tasks.deliver_sandbox_notification",
        [trade.pk],
    )


@pytest.mark.core
@pytest.mark.django_db
def test_confirming_again_resends_a_notice_medbook_has_not_acknowledged(client, levels) -> None:
    order = new_order()
    url = sandbox.checkout_url(order)
    client.post(url, {"action": "pay"})

    client.post(url, {"action": "pay"})
    notices = OutboxTask.objects.filter(task="billing.tasks.deliver_sandbox_notification")
    assert SandboxTrade.objects.count() == 1
    assert notices.count() == 2

    SandboxTrade.objects.update(notified_at=timezone.now())
    client.post(url, {"action": "pay"})
    assert notices.count() == 2


@pytest.mark.core
@pytest.mark.django_db
def test_declining_keeps_the_hold(client, levels) -> None:
    order = new_order()

    response = client.post(sandbox.checkout_url(order), {"action": "decline"})

    assert "保留" in response.content.decode()
    assert not SandboxTrade.objects.exists()
    assert Order.objects.get().status == OrderStatus.UNPAID


@pytest.mark.core
@pytest.mark.django_db
def test_an_expired_order_cannot_be_paid(client, levels) -> None:
    order = new_order(now=timezone.now() - dt.timedelta(minutes=30))

    response = client.post(sandbox.checkout_url(order), {"action": "pay"})

    assert "无法支付" in response.content.decode()
    assert not SandboxTrade.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_notification_reaches_medbook_and_confirms_the_appointment(
    live_server, settings, levels
) -> None:
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    order = new_order()
    trade = sandbox.pay(order=order)

    assert sandbox.deliver_notification(trade_id=trade.pk) is True
    assert sandbox.deliver_notification(trade_id=trade.pk) is True  # acknowledged: not sent again

    order.refresh_from_db()
    trade.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.gateway_trade_no == trade.trade_no
    assert order.appointment.status == AppointmentStatus.CONFIRMED
    assert (trade.notify_attempts, trade.notified_at is not None) == (1, True)
    assert GatewayNotification.objects.get().signature_valid


@pytest.mark.django_db
def test_an_unreachable_notify_url_is_retried_later(settings, levels) -> None:
    settings.MEDBOOK_PUBLIC_URL = "http://127.0.0.1:1"
    trade = sandbox.pay(order=new_order())

    with pytest.raises(OSError):
        sandbox.deliver_notification(trade_id=trade.pk)

    trade.refresh_from_db()
    assert (trade.notify_attempts, trade.notified_at) == (1, None)
    assert Order.objects.get().status == OrderStatus.UNPAID
