"""Refunds: requested once, carried out by the gateway after commit, never above what was paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from appointments import exceptions as booking_errors
from appointments.choices import Channel
from billing import exceptions as errors
from billing import services
from billing.choices import OrderStatus, RefundStatus
from billing.gateways import GatewayError
from billing.gateways import sandbox as sandbox_gateway
from billing.models import Order, Refund, SandboxRefund, SandboxTrade
from tests.appointments.factories import ScheduleFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.factories import expired_order, paid_order, run_refunds
from tests.members.factories import MemberFactory, UserFactory


@pytest.mark.core
@pytest.mark.django_db
def test_cancelling_an_unpaid_booking_closes_its_order(member) -> None:
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB
    )

    services.cancel_booking(appointment=appointment, by=member.user, reason="行程有变")

    order = Order.objects.get()
    assert (order.status, order.paid_at) == (OrderStatus.CLOSED, None)
    assert not Refund.objects.exists()


@pytest.mark.core
@pytest.mark.django_db
def test_cancelling_a_paid_booking_refunds_it_in_full_through_the_gateway(
    member, django_capture_on_commit_callbacks
) -> None:
    order = paid_order(member)

    with django_capture_on_commit_callbacks() as callbacks:
        services.cancel_booking(appointment=order.appointment, by=member.user, reason="行程有变")
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (order.amount, RefundStatus.REQUESTED)
    assert callbacks, "the gateway call waits for the commit"
    assert Order.objects.get().status == OrderStatus.REFUNDING

    run_refunds()
    run_refunds()  # repeating the job changes nothing

    order.refresh_from_db()
    refund.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, order.amount)
    assert refund.status == RefundStatus.SUCCEEDED
    assert SandboxRefund.objects.get().amount == order.amount


@pytest.mark.core
@pytest.mark.django_db
def test_a_retried_cancellation_requests_the_refund_once(member) -> None:
    order = paid_order(member)
    services.cancel_booking(appointment=order.appointment, by=member.user, reason="")

    with pytest.raises(booking_errors.NotCancellable):
        services.cancel_booking(appointment=order.appointment, by=member.user, reason="")
    assert Refund.objects.count() == 1


@pytest.mark.core
@pytest.mark.django_db
def test_a_refused_cancellation_refunds_nothing(member) -> None:
    order = paid_order(member)
    start = timezone.localtime() + dt.timedelta(hours=3)
    order.appointment.schedule.__class__.objects.filter(pk=order.appointment.schedule_id).update(
        date=start.date(), start_time=start.time(), end_time=dt.time(23, 59, 59)
    )

    with pytest.raises(booking_errors.CancellationClosed):
        services.cancel_booking(appointment=order.appointment, by=member.user, reason="")
    assert not Refund.objects.exists()
    assert Order.objects.get().status == OrderStatus.PAID


@pytest.mark.core
@pytest.mark.django_db
def test_staff_may_refund_part_and_never_more_than_was_paid(levels) -> None:
    order = paid_order(fee="50.00")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="cancel_any_appointment"))

    services.request_refund(order=order, reason="部分退费", by=staff, amount=Decimal("20.00"))
    with pytest.raises(errors.RefundTooLarge, match=r"30\.00"):
        services.request_refund(order=order, reason="", by=staff, amount=Decimal("30.01"))
    run_refunds()
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (
        OrderStatus.PARTIALLY_REFUNDED,
        Decimal("20.00"),
    )

    services.request_refund(order=order, reason="余款", by=staff)
    run_refunds()
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, Decimal("50.00"))
    with pytest.raises(errors.NotRefundable):
        services.request_refund(order=order, reason="", by=staff)


@pytest.mark.core
@pytest.mark.django_db
def test_an_unpaid_order_cannot_be_refunded(member) -> None:
    order = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB
    ).order

    with pytest.raises(errors.NotRefundable):
        services.request_refund(order=order, reason="")
    assert not Refund.objects.exists()


@pytest.mark.core
@pytest.mark.django_db
def test_a_payment_after_the_order_closed_is_sent_back_automatically(client, member) -> None:
    order = expired_order(member)
    trade = SandboxTrade.objects.create(
        trade_no="SB-LATE",
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        paid_at=timezone.now(),
    )
    body = sandbox_gateway.notification_body(
        out_trade_no=order.out_trade_no,
        trade_no=trade.trade_no,
        amount=order.amount,
        paid_at=trade.paid_at,
    )
    headers = {"X-Sandbox-Signature": sandbox_gateway.sign(body)}

    client.post("/payments/notify/sandbox/", body, content_type="application/json", headers=headers)
    client.post("/payments/notify/sandbox/", body, content_type="application/json", headers=headers)
    run_refunds()

    refund = Refund.objects.get()
    order.refresh_from_db()
    assert (refund.stray_trade_no, refund.amount, refund.status) == (
        "SB-LATE",
        order.amount,
        RefundStatus.SUCCEEDED,
    )
    assert (order.status, order.refunded_amount) == (OrderStatus.CLOSED, Decimal("0.00"))
    assert SandboxRefund.objects.get().trade == trade


@pytest.mark.core
@pytest.mark.django_db
def test_a_failing_gateway_leaves_the_refund_requested_for_the_next_try(member) -> None:
    order = paid_order(member)
    SandboxTrade.objects.filter(out_trade_no=order.out_trade_no).update(trade_no="SB-GONE")
    services.cancel_booking(appointment=order.appointment, by=member.user, reason="")
    refund = Refund.objects.get()

    with pytest.raises(GatewayError):
        services.carry_out_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.REQUESTED, 1)
    assert "no sandbox payment" in refund.last_error
    assert Order.objects.get().refunded_amount == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refund_requests_never_exceed_the_payment(levels) -> None:
    order = paid_order(fee="50.00")

    def ask():
        return services.request_refund(order=order, reason="", amount=Decimal("20.00"))

    results = run_in_threads([ask] * 6)

    granted = [r for r in results if isinstance(r, Refund)]
    assert len(granted) == 2
    assert all(isinstance(r, errors.RefundTooLarge) for r in results if r not in granted)
    run_refunds()
    order.refresh_from_db()
    assert order.refunded_amount == Decimal("40.00")
    assert order.status == OrderStatus.PARTIALLY_REFUNDED


@pytest.mark.core
@pytest.mark.django_db
@pytest.mark.parametrize(("percent", "refunded"), [(100, "45.00"), (50, "22.50"), (0, None)])
def test_a_late_cancellation_refunds_the_clinics_share(levels, settings, percent, refunded):
    settings.MEDBOOK_LATE_CANCEL_REFUND_PERCENT = percent
    gold = MemberFactory(level=levels["金卡"])  # may cancel late; pays 45.00 of 50.00
    order = paid_order(gold)
    start = timezone.localtime() + dt.timedelta(hours=3)
    order.appointment.schedule.__class__.objects.filter(pk=order.appointment.schedule_id).update(
        date=start.date(), start_time=start.time(), end_time=dt.time(23, 59, 59)
    )

    services.cancel_booking(appointment=order.appointment, by=gold.user, reason="临时有事")

    refund = Refund.objects.first()
    assert (str(refund.amount) if refund else None) == refunded
