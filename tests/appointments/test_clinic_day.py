"""Calling patients, completing, no-shows and the no-show ban."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services
from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from medbook.roles import DOCTOR
from members.models import Message
from tests.appointments import factories
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import started_ago
from tests.members.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def today_session(levels):
    """A free session of today that started an hour ago (at midnight, in the clinic day's first
    hour), with a doctor who has a login."""
    start = started_ago(dt.timedelta(hours=1))
    user = UserFactory(username="dr-wang")
    user.groups.add(Group.objects.get(name=DOCTOR))
    schedule = ScheduleFactory(
        doctor=DoctorFactory(user=user),
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=1),
    )
    return schedule, user


def book(schedule, member=None) -> Appointment:
    # Book "yesterday" so the session has not started yet at booking time.
    return factories.book(
        member or MemberFactory(), schedule, now=schedule.starts_at - dt.timedelta(hours=2)
    )


def test_the_doctor_calls_patients_in_check_in_order(today_session) -> None:
    schedule, doctor = today_session
    first, second, third = book(schedule), book(schedule), book(schedule)
    services.check_in_appointment(appointment=third)
    services.check_in_appointment(appointment=first)

    called = []
    for _ in range(3):
        patient = services.call_next(schedule=schedule, by=doctor)
        called.append(patient)
        if patient is not None:
            services.complete_appointment(appointment=patient)

    assert [a.pk if a else None for a in called] == [third.pk, first.pk, None]
    assert Appointment.objects.get(pk=second.pk).called_at is None


def test_a_doctor_runs_only_their_own_queue(today_session) -> None:
    schedule, _doctor = today_session
    other = UserFactory(username="dr-li")
    other.groups.add(Group.objects.get(name=DOCTOR))
    DoctorFactory(user=other)
    book(schedule)
    with pytest.raises(errors.NotAllowed):
        services.call_next(schedule=schedule, by=other)
    assert not services.may_run_queue(user=other, schedule=schedule)


def test_illegal_transitions_are_refused(today_session) -> None:
    schedule, doctor = today_session
    appointment = book(schedule)
    with pytest.raises(errors.IllegalTransition):
        services.complete_appointment(appointment=appointment)  # not checked in
    services.check_in_appointment(appointment=appointment)
    with pytest.raises(errors.IllegalTransition):
        services.check_in_appointment(appointment=appointment)  # twice
    services.complete_appointment(appointment=appointment)
    with pytest.raises(errors.IllegalTransition):
        services.mark_no_show(appointment=appointment, by=doctor)  # completed already
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.COMPLETED


def test_no_show_before_the_session_is_refused(levels) -> None:
    schedule = ScheduleFactory(fee=0)  # three days ahead
    appointment = services.book_appointment(
        member=MemberFactory(), schedule=schedule, channel="web"
    )
    with pytest.raises(errors.NoShowTooEarly):
        services.mark_no_show(appointment=appointment, by=None)


def test_a_no_show_frees_the_count(today_session) -> None:
    schedule, doctor = today_session
    appointment = book(schedule)
    services.mark_no_show(appointment=appointment, by=doctor)
    schedule.refresh_from_db()
    assert schedule.booked == 0
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.NO_SHOW


def past_session(days_ago: int):
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return ScheduleFactory(
        date=day,
        fee=0,
        start_time=dt.time(8),
        end_time=dt.time(9),
        release_at=timezone.now() - dt.timedelta(days=days_ago + 7),
    )


def test_the_sweep_marks_still_confirmed_appointments_after_the_grace_period(levels) -> None:
    member = MemberFactory()
    session = past_session(1)
    missed = book(session, member)
    came = book(session)
    services.check_in_appointment(appointment=came)

    assert services.sweep_no_shows() == 1
    assert services.sweep_no_shows() == 0  # idempotent

    assert Appointment.objects.get(pk=missed.pk).status == AppointmentStatus.NO_SHOW
    assert Appointment.objects.get(pk=came.pk).status == AppointmentStatus.CHECKED_IN


def test_the_sweep_waits_for_the_grace_period(levels, settings) -> None:
    settings.MEDBOOK_NO_SHOW_GRACE_MINUTES = 30
    session = past_session(1)  # yesterday 08:00-09:00
    book(session)
    ended = session.ends_at
    assert services.sweep_no_shows(now=ended + dt.timedelta(minutes=29)) == 0
    assert services.sweep_no_shows(now=ended + dt.timedelta(minutes=31)) == 1


def test_three_no_shows_in_ninety_days_pause_booking_and_tell_the_member(levels) -> None:
    member = MemberFactory()
    for days_ago in (80, 40, 2):
        book(past_session(days_ago), member)

    services.sweep_no_shows()

    member.refresh_from_db()
    assert member.banned_until is not None
    assert member.banned_until > timezone.now() + dt.timedelta(days=29)
    assert Message.objects.filter(member=member, kind="no_show").count() == 1
    with pytest.raises(errors.MemberBanned):
        services.book_appointment(member=member, schedule=ScheduleFactory(fee=0), channel="web")


def test_old_no_shows_do_not_count(levels) -> None:
    member = MemberFactory()
    for days_ago in (200, 120, 2):
        book(past_session(days_ago), member)
    services.sweep_no_shows()
    member.refresh_from_db()
    assert member.banned_until is None


def test_staff_with_a_reason_may_book_past_the_members_own_limits(levels, clinic_admin) -> None:
    member = MemberFactory(banned_until=timezone.now() + dt.timedelta(days=5))
    schedule = ScheduleFactory(fee=0, release_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(errors.NotAllowed):  # a reason without the permission
        services.book_appointment(
            member=member,
            schedule=schedule,
            channel="front_desk",
            by=UserFactory(),
            override_reason="医生要求复诊",
        )
    appointment = services.book_appointment(
        member=member,
        schedule=schedule,
        channel="front_desk",
        by=clinic_admin,
        override_reason="医生要求复诊",
    )
    assert appointment.staff_note == "医生要求复诊"
