"""Time slots under real concurrency on PostgreSQL: members racing for one slot, each thread
with its own connection, all released at the same instant."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from appointments import services
from appointments.choices import ACTIVE_STATUSES, Channel
from appointments.models import Appointment, Schedule
from appointments.slots import slot_of_number, slots_of
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import outcome, run_in_threads
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def slot_job(member_id: int, schedule_id: int, slot: int | None):
    def job():
        member = Member.objects.get(pk=member_id)
        schedule = Schedule.objects.get(pk=schedule_id)
        return services.book_appointment(
            member=member, schedule=schedule, channel=Channel.WEB, slot=slot
        )

    return job


def split_session(capacity: int) -> Schedule:
    """08:00–10:00 in 30-minute slots."""
    return ScheduleFactory(
        start_time=dt.time(8, 0), end_time=dt.time(10, 0), slot_minutes=30, capacity=capacity
    )


def test_twelve_members_racing_for_a_slot_of_three_book_exactly_three(levels) -> None:
    schedule = split_session(capacity=12)  # four slots of three
    members = [MemberFactory() for _ in range(12)]

    results = run_in_threads([slot_job(m.pk, schedule.pk, 1) for m in members])

    assert Counter(outcome(r) for r in results) == {"booked": 3, "slot_full": 9}
    numbers = sorted(
        Appointment.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES).values_list(
            "queue_number", flat=True
        )
    )
    assert numbers == list(slots_of(schedule)[1].numbers)
    assert_schedule_invariants(schedule.pk)
    schedule.refresh_from_db()
    assert schedule.booked == 3 and schedule.sold_out_at is None


def test_choosers_and_takers_of_the_earliest_slot_never_overbook_a_slot(levels) -> None:
    schedule = split_session(capacity=8)  # four slots of two
    members = [MemberFactory() for _ in range(16)]
    jobs = [slot_job(m.pk, schedule.pk, (0, None, 3, 0)[i % 4]) for i, m in enumerate(members)]

    results = run_in_threads(jobs)

    booked = [r for r in results if isinstance(r, Appointment)]
    # The choosers of slots 0 and 3 take at most their two places each; the takers of the
    # earliest free place fill whatever is left first.
    assert 4 <= len(booked) <= 8
    assert {outcome(r) for r in results} <= {"booked", "slot_full", "sold_out"}
    assert_schedule_invariants(schedule.pk)
    per_slot = Counter(slot_of_number(schedule, a.queue_number).index for a in booked)
    assert all(count <= 2 for count in per_slot.values())
    for appointment in booked:
        slot = slot_of_number(schedule, appointment.queue_number)
        assert slot.start <= appointment.estimated_time < slot.end
