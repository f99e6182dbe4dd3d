"""Issue 19 (part 5): the WeChat Pay (Native) checkout page — the member's "pay" on a WeChat order
opens a page with the QR code of a prepay order placed with the local stand-in, the amount and the
time left; the page polls until the payment arrives (then the appointment page) or the hold runs
out. Another member's appointment is a 404."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.choices import AppointmentStatus
from billing.views.member import qr_code_data_uri
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book, expired_order
from tests.billing.providers import new_key
from tests.billing.wechat_pay import beijing, notify

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def appointment(wechat, fake_wechat, member, client):
    """Member A (logged in) holds an unpaid booking: a WeChat Pay order of ¥60."""
    client.force_login(member.user)
    booked = book(member, ScheduleFactory(fee=Decimal("60.00")))
    assert booked.order.gateway == "wechat"
    return booked


def page_url(appointment) -> str:
    return reverse("billing:wechat_checkout", args=[appointment.pk])


def test_pay_on_a_wechat_order_opens_the_qr_page(client, appointment) -> None:
    response = client.get(reverse("billing:appointment_pay", args=[appointment.pk]))
    assert response.status_code == 302
    assert response["Location"] == page_url(appointment)
    detail = client.get(reverse("billing:appointment_detail", args=[appointment.pk]))
    assert reverse("billing:appointment_pay", args=[appointment.pk]) in detail.content.decode()


def test_the_page_shows_the_qr_code_of_the_prepay_the_amount_and_the_time_left(
    client, appointment, fake_wechat
) -> None:
    client.cookies["django_language"] = "zh-hans"
    response = client.get(page_url(appointment))

    assert response.status_code == 200
    page = response.content.decode()
    order = appointment.order
    code_url = f"weixin://wxpay/bizpayurl?pr={order.out_trade_no[-7:]}"
    qr = qr_code_data_uri(code_url)
    assert f'src="{qr}"' in page
    svg = base64.b64decode(qr.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<path" in svg and "<script" not in svg
    assert "¥60.00" in page and "微信支付" in page and "扫一扫" in page
    assert f'data-countdown="{int(order.expires_at.timestamp())}"' in page
    assert 'hx-trigger="every 3s' in page
    [(path, sent, _)] = fake_wechat.requests
    assert path == "/v3/pay/transactions/native"
    assert (sent["out_trade_no"], sent["amount"]["total"]) == (order.out_trade_no, 6000)
    assert sent["time_expire"] == beijing(order.expires_at)


def test_the_page_speaks_english_too(client, appointment) -> None:
    client.cookies["django_language"] = "en"
    page = client.get(page_url(appointment), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Pay with WeChat" in page and "tap Scan" in page


def test_another_members_appointment_is_a_404(client, appointment, other_member) -> None:
    client.force_login(other_member.user)
    assert client.get(page_url(appointment)).status_code == 404
    assert client.get(page_url(appointment), headers=HTMX).status_code == 404


def test_a_paid_notification_while_the_page_polls_moves_it_on(
    client, appointment, fake_wechat, wechat_keys
) -> None:
    client.get(page_url(appointment))
    waiting = client.get(page_url(appointment), headers=HTMX)
    assert waiting.status_code == 200
    assert 'id="wechat-status"' in waiting.content.decode()
    assert "HX-Redirect" not in waiting
    assert len(fake_wechat.requests) == 1  # polls only read the order's state

    assert notify(client, wechat_keys, appointment.order).status_code == 204

    moved = client.get(page_url(appointment), headers=HTMX)
    detail = reverse("billing:appointment_detail", args=[appointment.pk])
    assert moved["HX-Redirect"] == detail
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert client.get(page_url(appointment))["Location"] == detail  # opened again later


def test_a_hold_that_runs_out_is_said_and_shows_no_code(
    client, wechat, fake_wechat, member
) -> None:
    client.force_login(member.user)
    late = book(member, ScheduleFactory(), now=timezone.now() - dt.timedelta(minutes=20))
    closed = expired_order(member).appointment  # the expiry job released it already
    for appointment in (late, closed):
        page = client.get(page_url(appointment)).content.decode()
        assert "The time to pay has run out" in page or "付款时间已过" in page
        assert "data:image/svg" not in page and "wechat-status" not in page
        poll = client.get(page_url(appointment), headers=HTMX)
        assert poll["HX-Refresh"] == "true"
    assert fake_wechat.requests == []


def test_wechat_pay_unreachable_is_a_503_page_that_offers_a_retry(
    client, appointment, fake_wechat
) -> None:
    fake_wechat.keys = {**fake_wechat.keys, "wechat": new_key()}  # answers we cannot trust
    response = client.get(page_url(appointment))
    assert response.status_code == 503
    page = response.content.decode()
    assert "data:image/svg" not in page and page_url(appointment) in page


def test_an_order_of_another_gateway_goes_to_its_own_cashier(client, member) -> None:
    client.force_login(member.user)
    appointment = book(member, ScheduleFactory())  # a sandbox order
    response = client.get(page_url(appointment))
    assert response["Location"] == reverse("billing:appointment_pay", args=[appointment.pk])
