"""No money is lost or stuck: an expired hold frees its slot at once, a payment for a closed hold
goes back, sweeps finish refunds and notices whose jobs were lost, and the reconciliation lists
whatever went astray. Notifications are stored raw whatever they hold."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments.choices import AppointmentStatus
from appointments.exceptions import SoldOut
from billing import services, tasks
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import sandbox
from billing.gateways.sandbox import SIGNATURE_HEADER, notification_body, sign
from billing.models import GatewayNotification, Order, Refund, SandboxRefund, SandboxTrade
from billing.reconciliation import payment_problems
from medbook.celery import app as celery_app
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book, paid_order
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

LONG_AGO = dt.timedelta(minutes=20)  # more than the 15-minute hold


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


# -- an expired hold stops holding its slot the moment it expires --------------------------------


def test_a_full_session_with_an_expired_hold_books_the_next_member(levels) -> None:
    schedule = ScheduleFactory(capacity=1)
    first = book(MemberFactory(), schedule, now=timezone.now() - LONG_AGO)

    second = book(MemberFactory(), schedule)  # the expiry job has not run

    assert second.status == AppointmentStatus.PENDING_PAYMENT
    first.order.refresh_from_db()
    first.refresh_from_db()
    assert first.order.status == OrderStatus.CLOSED
    assert first.status == AppointmentStatus.CANCELLED
    schedule.refresh_from_db()
    assert schedule.booked == 1


def test_a_hold_that_has_not_expired_still_holds_its_slot(levels) -> None:
    schedule = ScheduleFactory(capacity=1)
    book(MemberFactory(), schedule, now=timezone.now() - dt.timedelta(minutes=10))

    with pytest.raises(SoldOut):
        book(MemberFactory(), schedule)


def test_a_member_whose_own_hold_expired_can_book_again(member) -> None:
    schedule = ScheduleFactory(capacity=3)
    first = book(member, schedule, now=timezone.now() - LONG_AGO)

    again = book(member, schedule)

    assert again.pk != first.pk
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED


# -- a payment for a closed hold is refunded -----------------------------------------------------


def notify(client, trade: SandboxTrade):
    body = notification_body(
        out_trade_no=trade.out_trade_no,
        trade_no=trade.trade_no,
        amount=trade.amount,
        paid_at=trade.paid_at,
    )
    return client.post(
        "/payments/notify/sandbox/",
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sign(body)},
    )


def test_a_late_notice_for_an_expired_hold_closes_it_and_returns_the_money(client, member):
    booked_at = timezone.now() - LONG_AGO
    order = book(member, ScheduleFactory(), now=booked_at).order
    trade = sandbox.pay(order=order, now=booked_at + dt.timedelta(minutes=14))

    response = notify(client, trade)  # reaches MedBook six minutes after the hold ran out

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert order.appointment.status == AppointmentStatus.CANCELLED
    refund = Refund.objects.get()
    assert (refund.stray_trade_no, refund.amount) == (trade.trade_no, trade.amount)
    notification = GatewayNotification.objects.get()
    assert notification.outcome == NotificationOutcome.REFUND_DUE


# -- sweeps ------------------------------------------------------------------------------------


def test_refunds_whose_jobs_were_lost_are_found_and_carried_out_once(member, eager) -> None:
    now = timezone.now()
    lost, fresh, tried = (
        services.request_refund(order=paid_order(MemberFactory()), reason="停诊") for _ in range(3)
    )
    Refund.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(minutes=2))
    Refund.objects.filter(pk=tried.pk).update(
        created_at=now - dt.timedelta(minutes=10), last_attempt_at=now - dt.timedelta(minutes=1)
    )

    assert services.stuck_refunds(now=now) == [lost.pk]
    tasks.recover_payments_and_refunds()
    tasks.recover_payments_and_refunds()

    assert Refund.objects.get(pk=lost.pk).status == RefundStatus.SUCCEEDED
    assert Refund.objects.get(pk=fresh.pk).status == RefundStatus.REQUESTED
    assert SandboxRefund.objects.count() == 1


def test_a_refund_killed_after_the_gateway_paid_it_is_completed_without_paying_twice(member):
    refund = services.request_refund(order=paid_order(member), reason="停诊")
    # The gateway refunded, then the worker died before MedBook recorded it.
    sandbox.refund(
        out_trade_no=refund.order.out_trade_no,
        trade_no=refund.order.gateway_trade_no,
        out_refund_no=refund.out_refund_no,
        amount=refund.amount,
    )

    services.carry_out_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert SandboxRefund.objects.get().amount == refund.amount


def test_refund_and_notice_jobs_are_retried_on_database_errors() -> None:
    from django.db import InterfaceError, OperationalError

    for task in (tasks.carry_out_refund, tasks.deliver_sandbox_notification):
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for)


def test_payments_never_acknowledged_are_notified_again(member, settings, live_server) -> None:
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    order = book(member, ScheduleFactory()).order
    trade = sandbox.pay(order=order, now=timezone.now() - dt.timedelta(minutes=1))

    celery_app.conf.task_always_eager = True
    try:
        tasks.recover_payments_and_refunds()
    finally:
        celery_app.conf.task_always_eager = False

    trade.refresh_from_db()
    order.refresh_from_db()
    assert trade.notified_at is not None
    assert order.status == OrderStatus.PAID


def test_money_taken_for_an_order_closed_unpaid_is_found_at_the_gateway_and_returned(
    member, eager, django_capture_on_commit_callbacks
) -> None:
    booked_at = timezone.now() - LONG_AGO
    order = book(member, ScheduleFactory(), now=booked_at).order
    sandbox.pay(order=order, now=booked_at + dt.timedelta(minutes=10))  # its notice was lost
    services.expire_unpaid_orders(now=booked_at + dt.timedelta(minutes=16))
    assert [p.kind for p in payment_problems(since=booked_at, now=timezone.now())] == [
        "charged_not_applied"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        tasks.recover_payments_and_refunds()
        tasks.recover_payments_and_refunds()  # checked once only

    refund = Refund.objects.get()
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, order.amount)
    assert SandboxRefund.objects.count() == 1
    assert payment_problems(since=booked_at, now=timezone.now()) == []


def test_the_reconciliation_command_fails_on_money_gone_astray(member) -> None:
    paid_order(member)
    call_command("reconcile_payments")  # all in order

    order = book(member, ScheduleFactory(date=timezone.localdate() + dt.timedelta(6))).order
    sandbox.pay(order=order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CLOSED, closed_at=timezone.now())
    stuck = services.request_refund(order=paid_order(MemberFactory()), reason="停诊")
    Refund.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))

    with pytest.raises(CommandError, match="2 payment problems"):
        call_command("reconcile_payments")


# -- the notify endpoint stores what it gets, safely ---------------------------------------------


def test_a_notice_with_a_nul_byte_is_stored_exactly_and_refused_without_an_error(client) -> None:
    body = b'{"out_trade_no":"MB1\x00"}\xff'

    response = client.post("/payments/notify/sandbox/", body, content_type="application/json")

    assert response.status_code == 400
    stored = GatewayNotification.objects.get()
    assert stored.body_encoding == "base64"
    assert base64.b64decode(stored.body) == body
    assert stored.outcome == NotificationOutcome.BAD_SIGNATURE


def test_a_form_encoded_notice_with_a_nul_byte_is_stored_too(client) -> None:
    body = b"out_trade_no=MB1%00&trade_status=TRADE_SUCCESS&sign=forged"

    response = client.post(
        "/payments/notify/sandbox/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    stored = GatewayNotification.objects.get()
    assert stored.body.encode() == body
    assert stored.outcome == NotificationOutcome.BAD_SIGNATURE


def test_a_notice_keeps_only_the_headers_a_gateway_signs_with(client) -> None:
    client.post(
        "/payments/notify/sandbox/",
        b"{}",
        content_type="application/json",
        headers={
            "Cookie": "sessionid=secret",
            "Authorization": "Bearer secret",
            SIGNATURE_HEADER: "abc",
        },
    )

    headers = {k.lower(): v for k, v in GatewayNotification.objects.get().headers.items()}
    assert headers["x-sandbox-signature"] == "abc"
    assert "cookie" not in headers
    assert "authorization" not in headers
    assert "secret" not in str(headers)


def test_notices_are_limited_per_address_and_in_size(client, settings) -> None:
    settings.MEDBOOK_NOTIFY_RATE = "3/60"
    answers = [
        client.post("/payments/notify/sandbox/", b"{}", content_type="application/json")
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert GatewayNotification.objects.count() == 3

    settings.MEDBOOK_NOTIFY_RATE = "100/60"
    too_big = client.post(
        "/payments/notify/sandbox/", b"x" * (17 * 1024), content_type="application/json"
    )
    assert too_big.status_code == 413
    assert GatewayNotification.objects.count() == 3


def test_a_price_is_never_taken_twice_for_one_notice(client, member) -> None:
    order = book(member, ScheduleFactory()).order
    trade = sandbox.pay(order=order)

    assert notify(client, trade).status_code == 200
    assert notify(client, trade).status_code == 200

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.amount == Decimal("50.00")
    assert not Refund.objects.exists()
