"""Booking for a patient (就诊人): the account books for its holder and relatives; the
per-person rules count the patient, the account pays, and no patient of another account can
be booked. The races run in real threads on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from appointments import exceptions as errors
from appointments import services
from appointments.choices import Channel
from appointments.models import Appointment, Schedule
from members.models import Member, Patient, Relation
from members.patients import add_patient, remove_patient, self_patient
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.appointments.test_concurrency import outcome, run_in_threads
from tests.members.factories import MemberFactory, resident_id

pytestmark = pytest.mark.django_db(transaction=True)


def child_of(member: Member, *, serial: str = "123", name: str = "王小明") -> Patient:
    return add_patient(
        member=member,
        name=name,
        relation=Relation.CHILD,
        id_number=resident_id("20180601", serial),
    )


def book(member: Member, schedule: Schedule, patient: Patient | None = None) -> Appointment:
    return services.book_appointment(
        member=member, schedule=schedule, channel=Channel.WEB, patient=patient
    )


def test_an_account_books_one_session_for_its_holder_and_its_child(levels) -> None:
    member = MemberFactory()
    child = child_of(member)
    schedule = ScheduleFactory(capacity=5)

    mine = book(member, schedule)
    childs = book(member, schedule, child)

    assert mine.patient == self_patient(member=member)
    assert childs.patient == child and childs.member == member  # the account pays
    assert {mine.queue_number, childs.queue_number} == {1, 2}
    with pytest.raises(errors.AlreadyBooked):
        book(member, schedule, child)


def test_one_visit_per_department_a_day_counts_the_patient(levels, settings) -> None:
    settings.MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY = True
    member = MemberFactory()
    child = child_of(member)
    first = ScheduleFactory()
    second = ScheduleFactory(
        doctor=DoctorFactory(department=first.doctor.department),
        date=first.date,
        start_time=dt.time(14, 0),
        end_time=dt.time(17, 0),
    )
    book(member, first, child)

    with pytest.raises(errors.OneVisitPerDepartmentDay):
        book(member, second, child)
    assert book(member, second).patient.is_self  # the holder is another person


def test_the_levels_cap_counts_each_patient(levels) -> None:
    member = MemberFactory(level=levels["普通"])  # two upcoming appointments at a time
    child = child_of(member)
    sessions = [ScheduleFactory() for _ in range(3)]
    book(member, sessions[0], child)
    book(member, sessions[1], child)

    with pytest.raises(errors.TierLimitReached):
        book(member, sessions[2], child)
    assert book(member, sessions[2]).patient.is_self


def test_another_accounts_patient_or_a_removed_one_is_refused_and_nothing_written(
    levels,
) -> None:
    member, stranger = MemberFactory(), MemberFactory()
    theirs = child_of(stranger)
    removed = child_of(member, serial="125", name="王小红")
    remove_patient(patient=removed)
    schedule = ScheduleFactory()

    for patient in (theirs, removed):
        with pytest.raises(errors.NotYourPatient):
            book(member, schedule, patient)
    schedule.refresh_from_db()
    assert schedule.booked == 0 and not Appointment.objects.exists()


@pytest.mark.postgres
def test_threads_booking_the_same_patient_twice_get_one_slot_and_relatives_all_get_theirs(
    levels,
) -> None:
    member = MemberFactory(level=levels["钻石"])
    relatives = [child_of(member, serial=f"{i:03d}", name=f"王小{i}") for i in (101, 103, 105)]
    patients = [self_patient(member=member), *relatives]
    schedule = ScheduleFactory(capacity=20)

    def job(patient_id: int):
        def run():
            fresh = Member.objects.get(pk=member.pk)
            patient = Patient.objects.get(pk=patient_id)
            return book(fresh, Schedule.objects.get(pk=schedule.pk), patient)

        return run

    # Every patient three times at once (a double and a triple click on four phones).
    results = run_in_threads([job(p.pk) for p in patients for _ in range(3)])

    counts = Counter(outcome(r) for r in results)
    assert counts == {"booked": 4, "already_booked": 8}, counts
    booked = Appointment.objects.filter(schedule=schedule)
    assert sorted(booked.values_list("patient_id", flat=True)) == sorted(p.pk for p in patients)
    assert sorted(booked.values_list("queue_number", flat=True)) == [1, 2, 3, 4]
    schedule.refresh_from_db()
    assert schedule.booked == 4
