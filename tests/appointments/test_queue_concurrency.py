"""The doctor's queue under real concurrency on PostgreSQL: "call next" clicked in several tabs
at the same instant calls different patients, never the same patient twice; a skip racing a
call leaves one consistent queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, Schedule
from medbook.roles import DOCTOR
from members.models import User
from tests.appointments import factories
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.conftest import started_ago
from tests.members.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(levels):
    start = started_ago(dt.timedelta(hours=1))
    user = UserFactory(username="dr-zhao")
    user.groups.add(Group.objects.get(name=DOCTOR))
    schedule = ScheduleFactory(
        doctor=DoctorFactory(user=user),
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        capacity=20,
        release_at=timezone.now() - dt.timedelta(days=1),
    )
    for _ in range(6):
        appointment = factories.book(
            MemberFactory(), schedule, now=schedule.starts_at - dt.timedelta(hours=2)
        )
        services.check_in_appointment(appointment=appointment)
    return schedule.pk, user.pk


def call_job(schedule_id: int, user_id: int):
    def job():
        return services.call_next(
            schedule=Schedule.objects.get(pk=schedule_id), by=User.objects.get(pk=user_id)
        )

    return job


def test_call_next_from_several_tabs_never_calls_a_patient_twice(queue) -> None:
    schedule_id, user_id = queue  # six patients waiting
    first = run_in_threads([call_job(schedule_id, user_id) for _ in range(4)])
    second = run_in_threads([call_job(schedule_id, user_id) for _ in range(4)])

    called = [r.pk for r in first + second if isinstance(r, Appointment)]
    assert len(called) == len(set(called)) == 6, first + second
    assert [r for r in first + second if not isinstance(r, Appointment)] == [None, None]
    counts = Appointment.objects.filter(schedule_id=schedule_id).values_list(
        "call_count", flat=True
    )
    assert sorted(counts) == [1] * 6  # each called exactly once


def test_a_skip_racing_call_next_leaves_one_patient_called(queue) -> None:
    schedule_id, user_id = queue
    user = User.objects.get(pk=user_id)
    first = services.call_next(schedule=Schedule.objects.get(pk=schedule_id), by=user)

    def skip():
        return services.skip_patient(appointment=first, by=User.objects.get(pk=user_id))

    results = run_in_threads([skip, call_job(schedule_id, user_id)])
    called = Appointment.objects.filter(
        schedule_id=schedule_id, status="checked_in", called_at__isnull=False
    )
    assert called.count() == 1, results  # the skipped one waits again; the next one is called
    assert first.pk not in {a.pk for a in called}
    ranks = list(
        Appointment.objects.filter(schedule_id=schedule_id, queue_rank__isnull=False)
        .exclude(pk__in=called.values("pk"))
        .values_list("queue_rank", flat=True)
    )
    assert len(ranks) == len(set(ranks)), ranks  # one place per waiting patient
