"""Rescheduling (改约) with the money: the booking moves, its order follows it, the member never
pays twice and a refund is asked for once; the rules of who, when, where to and how often."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments import exceptions as booking_errors
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Reschedule, Schedule
from appointments.services import RESCHEDULED_REASON, check_in_appointment
from billing import exceptions as errors
from billing import services
from billing.choices import OrderStatus, RefundStatus
from billing.gateways import sandbox
from billing.models import Order, Refund
from medbook.errors import Invalid
from medbook.models import OperationLog, OutboxTask
from members.models import Message, MessageKind, PointsEntry, Relation
from members.patients import add_patient, self_patient
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.billing.factories import paid_order, run_refunds
from tests.members.factories import MemberFactory, resident_id

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def later_session(schedule: Schedule, *, days: int = 1, **fields) -> Schedule:
    """Another session of the same doctor, ``days`` after ``schedule``."""
    return ScheduleFactory(
        doctor=schedule.doctor, date=schedule.date + dt.timedelta(days=days), **fields
    )


def move(appointment: Appointment, schedule: Schedule, by=None, **kwargs):
    return services.reschedule_booking(
        appointment=appointment, schedule=schedule, by=by or appointment.member.user, **kwargs
    )


def unpaid(member, fee: str = "50.00", **fields) -> Appointment:
    return services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal(fee), **fields), channel=Channel.WEB
    )


def pay(order: Order) -> None:
    trade = sandbox.pay(order=order)
    services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
    )


def nothing_moved(appointment: Appointment) -> None:
    """The refused move wrote nothing: the booking is where it was, as it was."""
    appointment.refresh_from_db()
    assert appointment.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_PAYMENT)
    assert not Reschedule.objects.exists()
    assert Appointment.objects.filter(member=appointment.member).count() == 1
    assert not Message.objects.filter(kind=MessageKind.RESCHEDULED).exists()
    assert_schedule_invariants(appointment.schedule_id)


# -- money -------------------------------------------------------------------------------------


def test_it_moves_a_paid_booking_with_its_order_when_the_fee_is_the_same(member) -> None:
    order = paid_order(member)
    old = order.appointment
    target = later_session(old.schedule)

    outcome = move(old, target)

    old.refresh_from_db()
    order.refresh_from_db()
    new = outcome.new
    assert (old.status, old.cancel_reason) == (AppointmentStatus.CANCELLED, RESCHEDULED_REASON)
    assert (new.status, new.schedule_id, new.queue_number) == (
        AppointmentStatus.CONFIRMED,
        target.pk,
        1,
    )
    assert (order.appointment_id, order.status, order.amount) == (
        new.pk,
        OrderStatus.PAID,
        Decimal("50.00"),
    )
    assert outcome.refund == 0 and not Refund.objects.exists()
    assert (new.patient_id, new.member_id) == (old.patient_id, old.member_id)
    record = Reschedule.objects.get()
    assert (record.from_appointment_id, record.to_appointment_id, record.sequence) == (
        old.pk,
        new.pk,
        1,
    )
    assert Schedule.objects.get(pk=old.schedule_id).booked == 0
    assert Schedule.objects.get(pk=target.pk).booked == 1
    assert_schedule_invariants(old.schedule_id)
    assert_schedule_invariants(target.pk)


def test_a_cheaper_session_refunds_the_difference_once_and_never_more_than_was_paid(
    levels, django_capture_on_commit_callbacks
) -> None:
    member = MemberFactory(level=levels["银卡"])  # pays 0.95 of the fee
    order = paid_order(member)  # ¥50 → ¥47.50
    target = later_session(order.appointment.schedule, fee=Decimal("30.00"))  # → ¥28.50

    with django_capture_on_commit_callbacks() as callbacks:
        outcome = move(order.appointment, target)

    refund = Refund.objects.get()
    assert outcome.refund == refund.amount == Decimal("19.00")
    assert refund.status == RefundStatus.REQUESTED
    assert callbacks, "the gateway is called after the commit"
    assert OutboxTask.objects.filter(task=services.REFUND_TASK, args=[refund.pk]).exists()
    run_refunds()
    run_refunds()
    order.refresh_from_db()
    assert (order.appointment_id, order.refunded_amount) == (outcome.new.pk, Decimal("19.00"))
    assert order.status == OrderStatus.PARTIALLY_REFUNDED

    # Cancelling the new appointment gives back what is left, not the whole payment again.
    done = services.cancel_booking(appointment=outcome.new, by=member.user, reason="行程有变")
    assert done.refund_requested == Decimal("28.50")
    run_refunds()
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, order.amount)


def test_an_unpaid_hold_moves_with_its_order_and_its_deadline(member) -> None:
    old = unpaid(member)
    order = old.order
    target = later_session(old.schedule)

    outcome = move(old, target)

    assert outcome.new.status == AppointmentStatus.PENDING_PAYMENT
    assert outcome.order.pk == order.pk
    assert outcome.order.expires_at == order.expires_at
    pay(outcome.order)  # the payment (perhaps already on its way) confirms the new appointment
    outcome.new.refresh_from_db()
    assert outcome.new.status == AppointmentStatus.CONFIRMED


def test_an_unpaid_hold_for_a_new_amount_gets_a_new_order_and_the_old_is_closed(member) -> None:
    old = unpaid(member)
    first = old.order
    target = later_session(old.schedule, fee=Decimal("80.00"))

    outcome = move(old, target)

    first.refresh_from_db()
    assert first.status == OrderStatus.CLOSED and first.appointment_id == old.pk
    assert (outcome.order.amount, outcome.order.expires_at) == (Decimal("80.00"), first.expires_at)
    assert outcome.order.status == OrderStatus.UNPAID
    # The old order's payment, if it still arrives, goes back.
    trade_no = "LATE-1"
    assert (
        services.confirm_payment(
            out_trade_no=first.out_trade_no, gateway_trade_no=trade_no, amount=first.amount
        )
        == services.PaymentOutcome.REFUND_DUE
    )


def test_a_hold_that_ran_out_does_not_move(member) -> None:
    booked_at = timezone.now() - dt.timedelta(minutes=30)
    old = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB, now=booked_at
    )

    with pytest.raises(errors.HoldExpired):
        move(old, later_session(old.schedule))

    nothing_moved(old)


def test_a_free_visit_moves_free_and_cannot_move_to_a_paid_session(member) -> None:
    old = unpaid(member, fee="0")
    assert old.status == AppointmentStatus.CONFIRMED

    with pytest.raises(errors.RescheduleCostsMore):
        move(old, later_session(old.schedule, fee=Decimal("50.00")))
    nothing_moved(old)

    outcome = move(old, later_session(old.schedule, days=2, fee=Decimal("0")))
    assert outcome.new.status == AppointmentStatus.CONFIRMED and outcome.order is None


def test_a_move_leaves_the_points_alone(member) -> None:
    order = paid_order(member)
    before = list(PointsEntry.objects.values_list("pk", flat=True))

    move(order.appointment, later_session(order.appointment.schedule))

    assert list(PointsEntry.objects.values_list("pk", flat=True)) == before


def test_the_member_is_told_by_message_and_text(member) -> None:
    order = paid_order(member)
    target = later_session(order.appointment.schedule, fee=Decimal("30.00"))

    outcome = move(order.appointment, target)

    message = Message.objects.get(kind=MessageKind.RESCHEDULED)
    assert message.reference == f"appointment:{outcome.new.pk}"
    assert "20.00" in message.body
    assert OutboxTask.objects.filter(task="members.tasks.deliver_message", args=[message.pk])


# -- the rules ---------------------------------------------------------------------------------


def test_a_member_moves_a_booking_once_by_default_and_staff_may_move_it_again(
    member, front_desk
) -> None:
    order = paid_order(member)
    first = move(order.appointment, later_session(order.appointment.schedule))
    again = later_session(order.appointment.schedule, days=2)

    with pytest.raises(booking_errors.RescheduleLimitReached):
        move(first.new, again)
    assert Reschedule.objects.count() == 1

    second = move(first.new, again, by=front_desk, reason="会员来电，医生停诊")
    assert second.new.staff_note == "会员来电，医生停诊"
    assert Reschedule.objects.get(to_appointment=second.new).sequence == 2
    log = OperationLog.objects.get(action="appointment.reschedule_for_member")
    assert (log.actor_id, log.reason) == (front_desk.pk, "会员来电，医生停诊")


def test_the_limit_is_the_levels(member) -> None:
    member.level.reschedules_per_booking = 0
    member.level.save()
    order = paid_order(member)

    with pytest.raises(booking_errors.RescheduleLimitReached):
        move(order.appointment, later_session(order.appointment.schedule))


def test_staff_must_give_a_reason_and_hold_the_permission(member, front_desk, doctor_user) -> None:
    order = paid_order(member)
    target = later_session(order.appointment.schedule)

    with pytest.raises(Invalid):
        move(order.appointment, target, by=front_desk, reason=" ")
    with pytest.raises(booking_errors.NotAllowed):
        move(order.appointment, target, by=doctor_user, reason="试试")
    with pytest.raises(booking_errors.NotAllowed):
        move(order.appointment, target, by=MemberFactory().user)
    nothing_moved(order.appointment)


def _paid_soon(member, start: dt.datetime) -> Order:
    schedule = ScheduleFactory(
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
    )
    appointment = services.place_booking(member=member, schedule=schedule, channel=Channel.WEB)
    pay(appointment.order)
    appointment.order.refresh_from_db()
    return appointment.order


def test_inside_the_cutoff_only_a_level_that_may_cancel_late_moves_online(levels) -> None:
    plain = MemberFactory(level=levels["普通"])
    gold = MemberFactory(level=levels["金卡"])
    order = _paid_soon(plain, timezone.localtime() + dt.timedelta(hours=30))
    # 30 hours ahead is outside the 24 h cutoff; move the clock instead of the session.
    later = order.appointment.schedule.starts_at - dt.timedelta(hours=3)

    with pytest.raises(booking_errors.RescheduleClosed):
        move(order.appointment, later_session(order.appointment.schedule), now=later)
    nothing_moved(order.appointment)

    gold_order = _paid_soon(gold, timezone.localtime() + dt.timedelta(hours=30))
    outcome = move(
        gold_order.appointment, later_session(gold_order.appointment.schedule), now=later
    )
    assert outcome.new.status == AppointmentStatus.CONFIRMED


def test_only_the_same_doctors_sessions_unless_the_clinic_allows_the_department(
    member, settings
) -> None:
    order = paid_order(member)
    schedule = order.appointment.schedule
    colleague = DoctorFactory(department=schedule.doctor.department)
    elsewhere = ScheduleFactory(date=schedule.date + dt.timedelta(days=1))
    same_department = ScheduleFactory(doctor=colleague, date=schedule.date + dt.timedelta(days=1))

    for target in (same_department, elsewhere):
        with pytest.raises(booking_errors.NotSameDoctor):
            move(order.appointment, target)
    settings.MEDBOOK_RESCHEDULE_ANY_DOCTOR = True
    with pytest.raises(booking_errors.NotSameDoctor):
        move(order.appointment, elsewhere)
    nothing_moved(order.appointment)

    outcome = move(order.appointment, same_department)
    assert outcome.new.schedule.doctor_id == colleague.pk


def test_the_same_session_is_refused_as_bad_input(member) -> None:
    order = paid_order(member)

    with pytest.raises(booking_errors.SameSession) as refused:
        move(order.appointment, order.appointment.schedule)
    assert refused.value.status == 400


def test_a_booking_moves_although_the_member_holds_as_many_as_the_level_allows(member) -> None:
    order = paid_order(member)
    paid_order(member)  # the second of two the 普通 level allows
    assert member.level.max_active_appointments == 2

    outcome = move(order.appointment, later_session(order.appointment.schedule))

    assert outcome.new.status == AppointmentStatus.CONFIRMED


def test_a_move_within_the_day_is_not_a_second_visit_to_the_department(member) -> None:
    order = paid_order(member)
    schedule = order.appointment.schedule
    afternoon = ScheduleFactory(
        doctor=schedule.doctor,
        date=schedule.date,
        session="afternoon",
        start_time=dt.time(14, 0),
        end_time=dt.time(17, 0),
    )

    outcome = move(order.appointment, afternoon)

    assert outcome.new.schedule_id == afternoon.pk


def test_a_full_session_is_refused(member) -> None:
    order = paid_order(member)
    target = later_session(order.appointment.schedule, capacity=1)
    services.place_booking(member=MemberFactory(), schedule=target, channel=Channel.WEB)

    with pytest.raises(booking_errors.SoldOut):
        move(order.appointment, target)

    nothing_moved(order.appointment)
    assert Schedule.objects.get(pk=target.pk).booked == 1


def test_a_checked_in_or_cancelled_booking_does_not_move(member) -> None:
    order = paid_order(member)
    check_in_appointment(appointment=order.appointment)

    with pytest.raises(booking_errors.NotReschedulable):
        move(order.appointment, later_session(order.appointment.schedule))

    other = paid_order(member)
    services.cancel_booking(appointment=other.appointment, by=member.user, reason="")
    with pytest.raises(booking_errors.NotReschedulable):
        move(other.appointment, later_session(other.appointment.schedule))


def test_the_patient_stays_the_one_the_booking_was_for(member) -> None:
    child = add_patient(
        member=member, name="张小明", relation=Relation.CHILD, id_number=resident_id("20180601")
    )
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB, patient=child
    )

    outcome = move(appointment, later_session(appointment.schedule))

    assert outcome.new.patient_id == child.pk != self_patient(member=member).pk
