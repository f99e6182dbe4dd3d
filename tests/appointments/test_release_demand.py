"""What a release leaves for the reports: the first moment a session sold out, written by the
booking that took its last slot (a real rush of threads on PostgreSQL), and the release gate's
refusals "sold out" counted in Redis and copied into ReleaseDemand without ever counting one
twice. Real PostgreSQL and Redis."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.cache import cache, caches
from django.db import connections
from django.utils import timezone

from appointments import gate, services
from appointments.choices import AppointmentStatus, Channel
from appointments.gate import Verdict
from appointments.models import Appointment, ReleaseDemand, Schedule
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import outcome, run_in_threads
from tests.members.factories import MemberFactory

# Now, to the second: the sessions (ScheduleFactory) open a day before the present and start
# three days after it, so every moment of these tests lies in their booking window.
BASE = dt.datetime.now(dt.UTC).replace(microsecond=0)


def booking_at(member_id: int, schedule_id: int, now: dt.datetime):
    def job():
        return services.book_appointment(
            member=Member.objects.get(pk=member_id),
            schedule=Schedule.objects.get(pk=schedule_id),
            channel=Channel.WEB,
            now=now,
        )

    return job


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rush_records_the_first_sell_out_once_and_a_freed_slot_keeps_it(levels) -> None:
    schedule = ScheduleFactory(capacity=10, fee=0)
    # 16 at once: each thread holds one of the pool's 20 connections (the test's own is one
    # more), so none waits out the pool's timeout on a loaded machine.
    members = [MemberFactory() for _ in range(16)]
    # Each attempt has a moment of its own: the sell-out is the moment of exactly one winner.
    jobs = [
        booking_at(m.pk, schedule.pk, BASE + dt.timedelta(seconds=i)) for i, m in enumerate(members)
    ]

    results = run_in_threads(jobs)

    assert Counter(outcome(r) for r in results)["booked"] == 10
    schedule.refresh_from_db()
    assert schedule.sold_out_at is not None
    winners = [r for r in results if isinstance(r, Appointment)]
    assert [a.created_at for a in winners].count(schedule.sold_out_at) == 1
    assert_schedule_invariants(schedule.pk)
    first = schedule.sold_out_at

    # A slot freed and taken again: full again, but the first sell-out stays.
    services.cancel_appointment(appointment=winners[0], by=None, reason="test")
    schedule.refresh_from_db()
    assert schedule.booked == 9
    assert schedule.sold_out_at == first
    cache.clear()
    services.book_appointment(
        member=MemberFactory(),
        schedule=schedule,
        channel=Channel.WEB,
        now=BASE + dt.timedelta(days=1),
    )
    schedule.refresh_from_db()
    assert schedule.booked == 10
    assert schedule.sold_out_at == first
    connections.close_all()


@pytest.mark.django_db
def test_a_session_not_full_has_no_sell_out(levels) -> None:
    schedule = ScheduleFactory(capacity=3, fee=0)
    for member in [MemberFactory(), MemberFactory()]:
        services.book_appointment(member=member, schedule=schedule, channel=Channel.WEB, now=BASE)
    schedule.refresh_from_db()
    assert schedule.booked == 2
    assert schedule.sold_out_at is None


@pytest.mark.django_db
def test_the_backfill_finds_when_the_capacity_th_slot_was_first_held(levels) -> None:
    schedule = ScheduleFactory(capacity=2, fee=0)
    never = ScheduleFactory(capacity=2, fee=0)
    one, two, three = MemberFactory(), MemberFactory(), MemberFactory()
    t = [BASE + dt.timedelta(minutes=m) for m in range(10)]

    def row(member, at, status, *, number, cancelled_at=None, sched=schedule):
        return Appointment.objects.create(
            member=member,
            schedule=sched,
            queue_number=number,
            estimated_time=sched.start_time,
            status=status,
            channel=Channel.WEB,
            fee=0,
            created_at=at,
            cancelled_at=cancelled_at,
        )

    # 0: one holds; 1: two holds (but cancels at 1, the same instant: freed first) ...
    row(one, t[0], AppointmentStatus.CONFIRMED, number=1)
    row(two, t[1], AppointmentStatus.CANCELLED, number=2, cancelled_at=t[1])
    # ... 3: three holds -> 2 held: sold out at 3; two's later booking makes no difference.
    row(three, t[3], AppointmentStatus.NO_SHOW, number=2)
    row(one, t[4], AppointmentStatus.CONFIRMED, number=1, sched=never)
    Schedule.objects.filter(pk__in=[schedule.pk, never.pk]).update(sold_out_at=None)

    assert services.backfill_sold_out_at() == 1
    schedule.refresh_from_db()
    never.refresh_from_db()
    assert schedule.sold_out_at == t[3]
    assert never.sold_out_at is None


@pytest.fixture
def redis_gate(settings):
    settings.MEDBOOK_BOOKING_RATE_MEMBER = "1000/60"
    settings.MEDBOOK_BOOKING_RATE_IP = "100000/60"
    caches["redis"].clear()
    yield
    caches["redis"].clear()


def sold_out_session() -> Schedule:
    schedule = ScheduleFactory(capacity=1, fee=0)
    now = timezone.now()
    gate.preheat(schedule_id=schedule.pk, remaining=0, ends_at=now + dt.timedelta(hours=3), now=now)
    return schedule


def refuse(schedule: Schedule, times: int) -> None:
    for user in range(times):
        verdict, _ = gate.enter(schedule_id=schedule.pk, user_id=1000 + user, address="10.0.0.1")
        assert verdict == Verdict.SOLD_OUT


def refused(schedule: Schedule) -> list[int]:
    return list(
        ReleaseDemand.objects.filter(schedule=schedule)
        .order_by("counted_from")
        .values_list("refused", flat=True)
    )


@pytest.mark.django_db
def test_the_gates_refusals_are_counted_and_copied_without_counting_twice(
    redis_gate, levels
) -> None:
    schedule = sold_out_session()
    refuse(schedule, 5)

    assert services.copy_release_demand() == 1
    assert services.copy_release_demand() == 1  # the same count again: nothing added
    assert refused(schedule) == [5]

    refuse(schedule, 2)
    gate.settle(schedule_id=schedule.pk, user_id=77, sold_out=True)  # the database said so
    services.copy_release_demand()
    assert refused(schedule) == [8]


@pytest.mark.django_db
def test_a_count_redis_lost_starts_a_new_period_not_added_to_the_old(redis_gate, levels) -> None:
    schedule = sold_out_session()
    refuse(schedule, 4)
    services.copy_release_demand()
    refuse(schedule, 1)  # counted after the copy, then lost with Redis: "where recorded"

    caches["redis"].clear()  # a flush (a restart without persistence)
    services.copy_release_demand()
    assert refused(schedule) == [4]
    assert gate.refusal_counts() == []  # the session's count is gone: forgotten

    now = timezone.now()
    gate.preheat(schedule_id=schedule.pk, remaining=0, ends_at=now + dt.timedelta(hours=3), now=now)
    refuse(schedule, 3)
    services.copy_release_demand()
    services.copy_release_demand()
    assert refused(schedule) == [4, 3]


@pytest.mark.django_db
def test_an_attempt_that_may_win_is_not_counted(redis_gate, levels) -> None:
    schedule = ScheduleFactory(capacity=2, fee=0)
    now = timezone.now()
    gate.preheat(schedule_id=schedule.pk, remaining=1, ends_at=now + dt.timedelta(hours=3), now=now)
    assert gate.enter(schedule_id=schedule.pk, user_id=1, address="10.0.0.1")[0] == Verdict.GO
    assert gate.enter(schedule_id=schedule.pk, user_id=2, address="10.0.0.2")[0] == (
        Verdict.SOLD_OUT
    )
    assert [(c.schedule_id, c.refused) for c in gate.refusal_counts()] == [(schedule.pk, 1)]
