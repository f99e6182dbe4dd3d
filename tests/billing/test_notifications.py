"""The notify endpoint: verify first, keep every notification raw, apply a payment once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.choices import AppointmentStatus
from billing.choices import NotificationOutcome, OrderStatus
from billing.gateways import sandbox
from billing.models import GatewayNotification, Order
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.factories import expired_order, unpaid_order

URL = reverse("billing:gateway_notify", args=["sandbox"])


@pytest.fixture
def order(member) -> Order:
    return unpaid_order(member)


def body_for(order: Order, *, amount: Decimal | None = None, trade_no: str = "SB-1") -> bytes:
    return sandbox.notification_body(
        out_trade_no=order.out_trade_no,
        trade_no=trade_no,
        amount=order.amount if amount is None else amount,
        paid_at=timezone.now(),
    )


def post(client: Client, body: bytes, signature: str | None = None):
    return client.post(
        URL,
        body,
        content_type="application/json",
        headers={"X-Sandbox-Signature": sandbox.sign(body) if signature is None else signature},
    )


def assert_unpaid(order: Order) -> None:
    order.refresh_from_db()
    assert (order.status, order.gateway_trade_no, order.paid_at) == (OrderStatus.UNPAID, None, None)
    assert order.appointment.status == AppointmentStatus.PENDING_PAYMENT


@pytest.mark.core
@pytest.mark.django_db
def test_a_signed_notification_pays_the_order_and_confirms_the_appointment(client, order) -> None:
    response = post(client, body_for(order))

    assert (response.status_code, response.content) == (200, b"success")
    order.refresh_from_db()
    order.appointment.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.gateway_trade_no == "SB-1"
    assert order.appointment.status == AppointmentStatus.CONFIRMED
    notification = GatewayNotification.objects.get()
    assert notification.signature_valid
    assert notification.outcome == NotificationOutcome.APPLIED


@pytest.mark.core
@pytest.mark.django_db
def test_a_replayed_notification_changes_nothing_and_stops_the_retries(client, order) -> None:
    body = body_for(order)
    post(client, body)
    paid_at = Order.objects.get().paid_at

    again = post(client, body)

    assert (again.status_code, again.content) == (200, b"success")
    assert Order.objects.get().paid_at == paid_at
    assert list(GatewayNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        NotificationOutcome.APPLIED,
        NotificationOutcome.DUPLICATE,
    ]


@pytest.mark.core
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "outcome"),
    [
        (lambda o: (body_for(o), "0" * 64), NotificationOutcome.BAD_SIGNATURE),
        (
            lambda o: (body_for(o, amount=Decimal("0.01")), None),
            NotificationOutcome.AMOUNT_MISMATCH,
        ),
        (lambda o: (b'{"not": "a notice"}', None), NotificationOutcome.BAD_SIGNATURE),
        (
            lambda o: (body_for(o).replace(o.out_trade_no.encode(), b"MB000"), None),
            NotificationOutcome.UNKNOWN_ORDER,
        ),
    ],
    ids=["bad-signature", "wrong-amount", "malformed", "unknown-order"],
)
def test_a_bad_notification_is_kept_raw_and_changes_nothing_else(client, order, make, outcome):
    body, signature = make(order)

    response = post(client, body, signature)

    assert (response.status_code, response.content) == (400, b"fail")
    assert_unpaid(order)
    notification = GatewayNotification.objects.get()
    assert notification.outcome == outcome
    assert notification.body == body.decode()


@pytest.mark.core
@pytest.mark.django_db
def test_a_late_payment_after_the_hold_closed_is_answered_and_flagged(client, member) -> None:
    late = expired_order(member)

    response = post(client, body_for(late))

    assert response.status_code == 200
    late.refresh_from_db()
    assert late.status == OrderStatus.CLOSED
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.REFUND_DUE


@pytest.mark.core
@pytest.mark.django_db
def test_only_known_gateways_and_post_are_served(client) -> None:
    assert client.post(reverse("billing:gateway_notify", args=["paypal"])).status_code == 404
    assert client.get(URL).status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_notification_delivered_five_times_at_once_confirms_once(order) -> None:
    body = body_for(order)

    results = run_in_threads([lambda: post(Client(), body).status_code] * 5)

    assert results == [200] * 5
    outcomes = Counter(GatewayNotification.objects.values_list("outcome", flat=True))
    assert outcomes == {NotificationOutcome.APPLIED: 1, NotificationOutcome.DUPLICATE: 4}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
