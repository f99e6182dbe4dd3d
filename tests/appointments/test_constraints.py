"""The database itself rejects rows that break the rules, whatever code writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from members.models import MemberLevel, Relation
from members.patients import add_patient, self_patient
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import resident_id

pytestmark = [pytest.mark.core, pytest.mark.django_db]

CHILD_ID = resident_id("20180601", "123")


def rejected(action) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        action()


def appointment(
    member, schedule, number, status=AppointmentStatus.CONFIRMED, patient=None
) -> Appointment:
    return Appointment.objects.create(
        member=member,
        patient=patient or self_patient(member=member),
        schedule=schedule,
        queue_number=number,
        estimated_time=dt.time(8, 0),
        status=status,
        channel=Channel.WEB,
        fee=Decimal("10.00"),
        created_at=timezone.now(),
    )


def test_booked_cannot_exceed_capacity(levels) -> None:
    schedule = ScheduleFactory(capacity=2)
    rejected(lambda: Schedule.objects.filter(pk=schedule.pk).update(booked=3))


def test_booked_cannot_go_below_zero(levels) -> None:
    schedule = ScheduleFactory()
    rejected(lambda: Schedule.objects.filter(pk=schedule.pk).update(booked=-1))


def test_a_session_must_end_after_it_starts(levels) -> None:
    rejected(lambda: ScheduleFactory(start_time=dt.time(10), end_time=dt.time(9)))


def test_capacity_is_at_least_one(levels) -> None:
    rejected(lambda: ScheduleFactory(capacity=0))


def test_one_doctor_has_one_session_starting_at_a_time(levels) -> None:
    schedule = ScheduleFactory()
    rejected(
        lambda: ScheduleFactory(
            doctor=schedule.doctor, date=schedule.date, start_time=schedule.start_time
        )
    )


@pytest.mark.parametrize("rate", ["-0.01", "1.01"])
def test_discount_rate_lies_within_zero_and_one(levels, rate) -> None:
    rejected(lambda: MemberLevel.objects.create(level=9, name="测试", discount_rate=Decimal(rate)))


def test_queue_numbers_start_at_one(member) -> None:
    rejected(lambda: appointment(member, ScheduleFactory(), 0))


def test_one_active_appointment_per_patient_and_schedule(member) -> None:
    schedule = ScheduleFactory()
    appointment(member, schedule, 1)
    rejected(lambda: appointment(member, schedule, 2))


def test_an_account_may_hold_one_slot_of_a_session_for_each_of_its_patients(member) -> None:
    schedule = ScheduleFactory()
    child = add_patient(member=member, name="王小明", relation=Relation.CHILD, id_number=CHILD_ID)
    appointment(member, schedule, 1)
    assert appointment(member, schedule, 2, patient=child).patient == child
    rejected(lambda: appointment(member, schedule, 3, patient=child))


def test_a_cancelled_appointment_does_not_block_booking_again(member) -> None:
    schedule = ScheduleFactory()
    appointment(member, schedule, 1, status=AppointmentStatus.CANCELLED)
    assert appointment(member, schedule, 1).status == AppointmentStatus.CONFIRMED


def test_active_queue_numbers_are_unique_per_schedule(member, other_member) -> None:
    schedule = ScheduleFactory()
    appointment(member, schedule, 1)
    rejected(lambda: appointment(other_member, schedule, 1))


def test_points_balance_cannot_be_negative(member) -> None:
    member.points_balance = -1
    rejected(lambda: member.save(update_fields=["points_balance"]))


def test_fees_cannot_be_negative(levels) -> None:
    rejected(lambda: ScheduleFactory(fee=Decimal("-1")))
