"""Rescheduling (改约) to a dearer session, and the level's limits.

A paid booking moving to a session that costs more holds the new slot and a top-up order for
the difference (on the gateway it was paid with); the old appointment stays until the top-up
is paid, then the move completes in the payment's transaction. Unpaid, the hold runs out and
nothing else changed. The booking's money is then its top-up and the order it tops up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments import exceptions as booking_errors
from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Reschedule, Schedule
from appointments.services import RESCHEDULED_REASON, check_in_appointment
from billing import services
from billing.choices import Gateway, OrderStatus
from billing.gateways import sandbox
from billing.models import Order, Refund
from members.models import Message, MessageKind, PointsEntry
from tests.appointments.invariants import assert_schedule_invariants
from tests.billing.factories import paid_order, run_refunds
from tests.billing.test_reschedule import later_session, move

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def pay(order: Order, *, now: dt.datetime | None = None) -> services.PaymentOutcome:
    trade = sandbox.pay(order=order, now=now)
    return services.confirm_payment(
        out_trade_no=order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=order.amount,
        now=now,
    )


def dearer_hold(member, *, fee: str = "80.00"):
    order = paid_order(member)  # ¥50
    target = later_session(order.appointment.schedule, fee=Decimal(fee))
    return order, target, move(order.appointment, target)


def test_a_dearer_session_is_held_for_the_difference_and_the_old_booking_stays(member) -> None:
    order, target, outcome = dearer_hold(member)
    old, new, top_up = outcome.old, outcome.new, outcome.order

    old.refresh_from_db()
    assert outcome.awaiting_difference and outcome.refund == 0
    assert old.status == AppointmentStatus.CONFIRMED  # nothing lost while unpaid
    assert (new.status, new.schedule_id) == (AppointmentStatus.PENDING_PAYMENT, target.pk)
    assert (top_up.amount, top_up.status, top_up.top_up_of_id) == (
        Decimal("30.00"),
        OrderStatus.UNPAID,
        order.pk,
    )
    assert top_up.gateway == order.gateway == Gateway.SANDBOX
    assert Schedule.objects.get(pk=target.pk).booked == 1
    assert Schedule.objects.get(pk=old.schedule_id).booked == 1
    assert Reschedule.objects.get().completed_at is None
    assert "30.00" in Message.objects.get(kind=MessageKind.RESCHEDULED).body
    assert_schedule_invariants(target.pk)


def test_paying_the_difference_completes_the_move_in_one_step(member) -> None:
    order, target, outcome = dearer_hold(member)

    assert pay(outcome.order) == services.PaymentOutcome.CONFIRMED

    old, new = outcome.old, outcome.new
    old.refresh_from_db()
    new.refresh_from_db()
    order.refresh_from_db()
    assert (old.status, old.cancel_reason) == (AppointmentStatus.CANCELLED, RESCHEDULED_REASON)
    assert new.status == AppointmentStatus.CONFIRMED
    assert order.status == OrderStatus.PAID and order.appointment_id == old.pk
    assert Reschedule.objects.get().completed_at is not None
    assert Schedule.objects.get(pk=old.schedule_id).booked == 0
    assert Schedule.objects.get(pk=target.pk).booked == 1
    assert_schedule_invariants(old.schedule_id)
    assert_schedule_invariants(target.pk)
    # The same payment notified again changes nothing.
    trade_no = Order.objects.get(pk=outcome.order.pk).gateway_trade_no
    again = services.confirm_payment(
        out_trade_no=outcome.order.out_trade_no,
        gateway_trade_no=trade_no,
        amount=outcome.order.amount,
    )
    assert again == services.PaymentOutcome.ALREADY_APPLIED


def test_an_unpaid_difference_runs_out_and_the_booking_stays_as_it_was(member) -> None:
    _, target, outcome = dearer_hold(member)

    later = timezone.now() + dt.timedelta(minutes=16)
    assert services.expire_unpaid_orders(now=later) == 1

    old, new = outcome.old, outcome.new
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == AppointmentStatus.CONFIRMED and new.status == AppointmentStatus.CANCELLED
    assert Order.objects.get(pk=outcome.order.pk).status == OrderStatus.CLOSED
    assert Schedule.objects.get(pk=target.pk).booked == 0
    assert Schedule.objects.get(pk=old.schedule_id).booked == 1
    told = Message.objects.filter(kind=MessageKind.CANCELLED).get()
    assert "original appointment stays" in told.body or "原预约保持不变" in told.body
    # The lapsed move does not count, and the booking may move again.
    again = move(old, later_session(old.schedule, days=3), now=later)
    assert not again.awaiting_difference


def test_while_a_difference_is_awaited_no_other_move_is_made(member, front_desk) -> None:
    _, _, outcome = dearer_hold(member)
    elsewhere = later_session(outcome.old.schedule, days=2)

    for appointment, by in ((outcome.old, None), (outcome.new, None), (outcome.old, front_desk)):
        with pytest.raises(booking_errors.MovePending):
            move(appointment, elsewhere, by=by, reason="来电")
    assert Reschedule.objects.count() == 1


def test_cancelling_the_old_booking_ends_the_awaited_move(member) -> None:
    _, target, outcome = dearer_hold(member)

    done = services.cancel_booking(appointment=outcome.old, by=member.user, reason="不去了")

    assert done.refund_requested == Decimal("50.00")
    outcome.new.refresh_from_db()
    assert outcome.new.status == AppointmentStatus.CANCELLED
    assert Order.objects.get(pk=outcome.order.pk).status == OrderStatus.CLOSED
    assert Schedule.objects.get(pk=target.pk).booked == 0
    # A payment of the difference that still arrives goes back.
    assert pay(outcome.order) == services.PaymentOutcome.REFUND_DUE


def test_a_difference_paid_after_the_booking_was_checked_in_goes_back(member) -> None:
    _, _, outcome = dearer_hold(member)
    check_in_appointment(appointment=outcome.old)

    assert pay(outcome.order) == services.PaymentOutcome.REFUND_DUE

    outcome.new.refresh_from_db()
    assert outcome.new.status == AppointmentStatus.CANCELLED
    assert Order.objects.get(pk=outcome.order.pk).status == OrderStatus.CLOSED
    assert Appointment.objects.get(pk=outcome.old.pk).status == AppointmentStatus.CHECKED_IN


def test_cancelling_a_moved_dearer_booking_refunds_both_payments_once(member) -> None:
    order, _, outcome = dearer_hold(member)
    pay(outcome.order)

    done = services.cancel_booking(appointment=outcome.new, by=member.user, reason="行程有变")

    assert done.refund_requested == Decimal("80.00")
    assert sorted(Refund.objects.values_list("order_id", "amount")) == sorted(
        [(order.pk, Decimal("50.00")), (outcome.order.pk, Decimal("30.00"))]
    )
    run_refunds()
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.REFUNDED}


def test_a_moved_dearer_visit_earns_points_on_all_it_cost(member) -> None:
    _, _, outcome = dearer_hold(member)
    pay(outcome.order)
    new = check_in_appointment(appointment=outcome.new)

    services.complete_visit(appointment=new)

    assert PointsEntry.objects.get().delta == 80


def test_moving_a_topped_up_booking_to_a_cheaper_session_refunds_the_top_up_first(
    member,
) -> None:
    member.level.reschedules_per_booking = 2
    member.level.save()
    order, _, outcome = dearer_hold(member)  # ¥50 + ¥30
    pay(outcome.order)

    cheaper = move(outcome.new, later_session(outcome.new.schedule, fee=Decimal("40.00")))

    assert cheaper.refund == Decimal("40.00")
    assert sorted(Refund.objects.values_list("order_id", "amount")) == sorted(
        [(outcome.order.pk, Decimal("30.00")), (order.pk, Decimal("10.00"))]
    )


def test_the_desk_takes_the_difference_at_the_counter(member, front_desk) -> None:
    _, _, outcome = dearer_hold(member)

    paid = services.pay_at_counter(order=outcome.order, by=front_desk)

    assert (paid.status, paid.gateway) == (OrderStatus.PAID, Gateway.COUNTER)
    assert Appointment.objects.get(pk=outcome.old.pk).status == AppointmentStatus.CANCELLED
    assert Appointment.objects.get(pk=outcome.new.pk).status == AppointmentStatus.CONFIRMED


def test_staff_move_to_a_dearer_session_for_the_member_also_awaits_the_difference(
    member, front_desk
) -> None:
    order = paid_order(member)
    target = later_session(order.appointment.schedule, fee=Decimal("60.00"))

    outcome = move(order.appointment, target, by=front_desk, reason="会员来电")

    assert outcome.awaiting_difference and outcome.order.amount == Decimal("10.00")
    assert outcome.new.staff_note == "会员来电"


# -- the level's limits ------------------------------------------------------------------------


def test_a_level_allows_its_own_moves_per_booking(levels, member) -> None:
    gold = levels["金卡"]
    gold.reschedules_per_booking = 2
    gold.save()
    member.level = gold
    member.save()
    order = paid_order(member)
    first = move(order.appointment, later_session(order.appointment.schedule))
    second = move(first.new, later_session(order.appointment.schedule, days=2))

    with pytest.raises(booking_errors.RescheduleLimitReached) as refused:
        move(second.new, later_session(order.appointment.schedule, days=3))
    assert refused.value.code == "reschedule_limit" and refused.value.status == 409
    assert "2" in refused.value.message


def test_a_level_caps_the_moves_of_a_month_across_bookings(member, front_desk) -> None:
    member.level.reschedules_per_month = 1
    member.level.save()
    one, two = paid_order(member), paid_order(member)
    move(one.appointment, later_session(one.appointment.schedule))

    with pytest.raises(booking_errors.MonthlyRescheduleLimitReached) as refused:
        move(two.appointment, later_session(two.appointment.schedule, days=2))
    assert refused.value.code == "reschedule_monthly_limit"
    assert "1" in refused.value.message
    # Staff override keeps working, and their moves do not count against the member.
    move(
        two.appointment,
        later_session(two.appointment.schedule, days=3),
        by=front_desk,
        reason="来电",
    )


def test_a_new_month_starts_the_count_again(member) -> None:
    member.level.reschedules_per_month = 1
    member.level.save()
    one, two = paid_order(member), paid_order(member)
    move(one.appointment, later_session(one.appointment.schedule))
    Reschedule.objects.update(created_at=timezone.now() - dt.timedelta(days=40))

    move(two.appointment, later_session(two.appointment.schedule, days=2))
