"""Rescheduling under real concurrency on PostgreSQL (threads, each with its own connection):
moves racing bookings, cancellations and each other on both sessions never oversell, never
leave a booking in both sessions or in neither, keep the queue numbers exact, and settle the
money once."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest

from appointments import exceptions as booking_errors
from appointments.choices import ACTIVE_STATUSES, AppointmentStatus, Channel
from appointments.models import Appointment, Reschedule, Schedule
from appointments.services import RESCHEDULED_REASON
from billing import services
from billing.choices import OrderStatus
from billing.gateways import sandbox
from billing.models import Order, Refund
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.factories import paid_order
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome(result) -> str:
    if isinstance(result, services.RescheduleOutcome):
        return "moved"
    if isinstance(result, Appointment):
        return "booked" if result.is_active else "cancelled"
    if isinstance(result, booking_errors.AppointmentError):
        return result.code
    return repr(result)


def move_job(appointment_id: int, schedule_id: int):
    def job():
        appointment = Appointment.objects.select_related("member").get(pk=appointment_id)
        return services.reschedule_booking(
            appointment=appointment,
            schedule=Schedule.objects.get(pk=schedule_id),
            by=appointment.member.user,
        )

    return job


def book_job(member_id: int, schedule_id: int):
    def job():
        return services.place_booking(
            member=Member.objects.get(pk=member_id),
            schedule=Schedule.objects.get(pk=schedule_id),
            channel=Channel.WEB,
        )

    return job


def cancel_job(appointment_id: int):
    def job():
        appointment = Appointment.objects.select_related("member").get(pk=appointment_id)
        return services.cancel_booking(
            appointment=appointment, by=appointment.member.user, reason="行程有变"
        )

    return job


def held_once(appointment_ids: list[int]) -> None:
    """Each booking is in exactly one session: moved (its old appointment cancelled, the new one
    active, linked) or not (still active where it was, or cancelled by its member)."""
    for pk in appointment_ids:
        old = Appointment.objects.get(pk=pk)
        record = Reschedule.objects.filter(from_appointment=old).first()
        if record is None:
            continue  # not moved: active, or cancelled with its money settled
        new = record.to_appointment
        assert old.status == AppointmentStatus.CANCELLED
        assert new.status in ACTIVE_STATUSES or new.cancel_reason in (
            "行程有变",
            RESCHEDULED_REASON,
        )
        assert new.patient_id == old.patient_id


def test_moves_racing_bookings_for_the_last_slots_never_oversell(levels) -> None:
    source = ScheduleFactory(capacity=10)
    target = ScheduleFactory(doctor=source.doctor, date=source.date + dt.timedelta(days=1))
    movers = [
        services.place_booking(member=MemberFactory(), schedule=source, channel=Channel.WEB)
        for _ in range(6)
    ]
    bookers = [MemberFactory() for _ in range(12)]
    for _ in range(target.capacity - 4):  # four slots left on the target
        services.place_booking(member=MemberFactory(), schedule=target, channel=Channel.WEB)

    jobs = [move_job(a.pk, target.pk) for a in movers] + [
        book_job(m.pk, target.pk) for m in bookers
    ]
    random.Random(16).shuffle(jobs)
    results = run_in_threads(jobs)

    counts = Counter(outcome(r) for r in results)
    assert counts["moved"] + counts["booked"] == 4, counts
    assert set(counts) <= {"moved", "booked", "sold_out"}, counts
    target.refresh_from_db()
    source.refresh_from_db()
    assert (target.booked, source.booked) == (10, 6 - counts["moved"])
    assert_schedule_invariants(source.pk)
    assert_schedule_invariants(target.pk)
    held_once([a.pk for a in movers])
    # The free numbers of the target were handed out exactly once each.
    numbers = sorted(
        Appointment.objects.filter(schedule=target, status__in=ACTIVE_STATUSES).values_list(
            "queue_number", flat=True
        )
    )
    assert numbers == list(range(1, 11))


def test_a_move_racing_the_cancellation_of_the_same_paid_booking_settles_the_money_once(
    levels,
) -> None:
    for _ in range(4):
        order = paid_order(MemberFactory(), fee="50.00")
        old = order.appointment
        target = ScheduleFactory(
            doctor=old.schedule.doctor,
            date=old.schedule.date + dt.timedelta(days=1),
            fee=Decimal("30.00"),
        )

        results = run_in_threads([move_job(old.pk, target.pk), cancel_job(old.pk)])

        kinds = sorted(outcome(r) for r in results)
        assert kinds in (["moved", "not_cancellable"], ["cancelled", "not_reschedulable"]), kinds
        order.refresh_from_db()
        refunds = list(Refund.objects.filter(order=order).values_list("amount", flat=True))
        if "moved" in kinds:
            # The order followed the booking; only the difference goes back.
            assert refunds == [Decimal("20.00")]
            assert Appointment.objects.get(pk=order.appointment_id).status == (
                AppointmentStatus.CONFIRMED
            )
        else:
            assert refunds == [Decimal("50.00")] and order.appointment_id == old.pk
            assert not Appointment.objects.filter(schedule=target).exists()
        assert sum(refunds) <= order.amount
        assert_schedule_invariants(old.schedule_id)
        assert_schedule_invariants(target.pk)
        held_once([old.pk])


def test_moves_crossing_between_two_sessions_neither_deadlock_nor_oversell(levels) -> None:
    first = ScheduleFactory(capacity=6)
    second = ScheduleFactory(
        doctor=first.doctor, date=first.date + dt.timedelta(days=1), capacity=6
    )
    forth = [
        services.place_booking(member=MemberFactory(), schedule=first, channel=Channel.WEB)
        for _ in range(5)
    ]
    back = [
        services.place_booking(member=MemberFactory(), schedule=second, channel=Channel.WEB)
        for _ in range(5)
    ]

    jobs = [move_job(a.pk, second.pk) for a in forth] + [move_job(a.pk, first.pk) for a in back]
    random.Random(7).shuffle(jobs)
    results = run_in_threads(jobs)

    counts = Counter(outcome(r) for r in results)
    assert set(counts) <= {"moved", "sold_out"}, counts  # no deadlock, no other error
    assert counts["moved"] >= 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.booked + second.booked == 10
    assert_schedule_invariants(first.pk)
    assert_schedule_invariants(second.pk)
    held_once([a.pk for a in forth + back])


def test_seeded_random_runs_of_moves_bookings_and_cancellations_keep_the_invariants(
    levels,
) -> None:
    rng = random.Random(1616)
    sessions = [ScheduleFactory(capacity=5)]
    sessions.append(
        ScheduleFactory(
            doctor=sessions[0].doctor, date=sessions[0].date + dt.timedelta(days=1), capacity=5
        )
    )
    held = []
    for session in sessions:
        for _ in range(3):
            held.append(
                services.place_booking(
                    member=MemberFactory(), schedule=session, channel=Channel.WEB
                )
            )
    for _round in range(3):
        jobs = []
        for appointment in held:
            appointment.refresh_from_db()
            if not appointment.is_active:
                continue
            other = next(s for s in sessions if s.pk != appointment.schedule_id)
            choice = rng.random()
            if choice < 0.5:
                jobs.append(move_job(appointment.pk, other.pk))
            elif choice < 0.7:
                jobs.append(cancel_job(appointment.pk))
        jobs += [book_job(MemberFactory().pk, rng.choice(sessions).pk) for _ in range(3)]
        rng.shuffle(jobs)
        results = run_in_threads(jobs)
        assert all(
            outcome(r) in {"moved", "booked", "cancelled", "sold_out", "reschedule_limit"}
            for r in results
        ), [outcome(r) for r in results]
        for result in results:
            if isinstance(result, services.RescheduleOutcome):
                held.append(result.new)
            elif isinstance(result, Appointment) and result.is_active:
                held.append(result)
        for session in sessions:
            assert_schedule_invariants(session.pk)
        held_once([a.pk for a in held])
    # Money: each order is held by one appointment, paid orders are never refunded twice.
    for order in Order.objects.all():
        assert order.refunded_amount <= order.amount
        if order.status == OrderStatus.UNPAID:
            assert order.appointment.status == AppointmentStatus.PENDING_PAYMENT


# -- moves to a dearer session (held for the difference) ---------------------------------------


def pay_job(order_id: int):
    def job():
        order = Order.objects.get(pk=order_id)
        trade = sandbox.pay(order=order)
        return services.confirm_payment(
            out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
        )

    return job


def test_two_moves_of_one_booking_to_dearer_sessions_hold_one_slot(levels) -> None:
    for _ in range(3):
        order = paid_order(MemberFactory(), fee="50.00")
        old = order.appointment
        targets = [
            ScheduleFactory(
                doctor=old.schedule.doctor,
                date=old.schedule.date + dt.timedelta(days=days),
                fee=Decimal("80.00"),
            )
            for days in (1, 2)
        ]

        results = run_in_threads([move_job(old.pk, target.pk) for target in targets])

        assert sorted(outcome(r) for r in results) == ["move_pending", "moved"], results
        assert Order.objects.filter(top_up_of=order, status=OrderStatus.UNPAID).count() == 1
        assert Appointment.objects.get(pk=old.pk).status == AppointmentStatus.CONFIRMED
        held = [Schedule.objects.get(pk=target.pk).booked for target in targets]
        assert sorted(held) == [0, 1]
        for target in targets:
            assert_schedule_invariants(target.pk)


def test_paying_the_difference_racing_the_cancellation_of_the_booking_never_keeps_both(
    levels,
) -> None:
    for _ in range(4):
        order = paid_order(MemberFactory(), fee="50.00")
        old = order.appointment
        target = ScheduleFactory(
            doctor=old.schedule.doctor,
            date=old.schedule.date + dt.timedelta(days=1),
            fee=Decimal("80.00"),
        )
        top_up = services.reschedule_booking(
            appointment=old, schedule=target, by=old.member.user
        ).order

        results = run_in_threads([pay_job(top_up.pk), cancel_job(old.pk)])

        top_up.refresh_from_db()
        new = Appointment.objects.get(pk=top_up.appointment_id)
        old.refresh_from_db()
        if results[0] == services.PaymentOutcome.CONFIRMED:
            # The move completed first: the old booking was no longer there to cancel.
            assert outcome(results[1]) == "not_cancellable", results
            assert (old.status, new.status) == (
                AppointmentStatus.CANCELLED,
                AppointmentStatus.CONFIRMED,
            )
            assert (
                old.cancel_reason == RESCHEDULED_REASON
                and not Refund.objects.filter(order__in=[order, top_up]).exists()
            )
        else:
            # Cancelled first: the difference goes back, the held slot is freed.
            assert results[0] == services.PaymentOutcome.REFUND_DUE, results
            assert (old.status, new.status, top_up.status) == (
                AppointmentStatus.CANCELLED,
                AppointmentStatus.CANCELLED,
                OrderStatus.CLOSED,
            )
            assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [
                Decimal("50.00")
            ]
        active = Appointment.objects.filter(
            pk__in=[old.pk, new.pk], status__in=ACTIVE_STATUSES
        ).count()
        assert active <= 1
        assert_schedule_invariants(old.schedule_id)
        assert_schedule_invariants(target.pk)


def test_a_dearer_move_racing_the_cancellation_of_the_booking_leaves_nothing_held(levels) -> None:
    for _ in range(4):
        order = paid_order(MemberFactory(), fee="50.00")
        old = order.appointment
        target = ScheduleFactory(
            doctor=old.schedule.doctor,
            date=old.schedule.date + dt.timedelta(days=1),
            fee=Decimal("80.00"),
        )

        results = run_in_threads([move_job(old.pk, target.pk), cancel_job(old.pk)])

        kinds = sorted(outcome(r) for r in results)
        # The move first (held for the difference): the cancellation then ends it too.
        assert kinds in (["cancelled", "moved"], ["cancelled", "not_reschedulable"]), kinds
        assert not Appointment.objects.filter(
            member=old.member, status__in=ACTIVE_STATUSES
        ).exists()
        assert not Order.objects.filter(top_up_of=order, status=OrderStatus.UNPAID).exists()
        assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [
            Decimal("50.00")
        ]
        assert_schedule_invariants(old.schedule_id)
        assert_schedule_invariants(target.pk)
