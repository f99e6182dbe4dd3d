"""Checks of the design's invariants 1-3, shared by the tests that try to break them."""

from __future__ import annotations

from collections import Counter

from appointments.choices import ACTIVE_STATUSES, UPCOMING_STATUSES
from appointments.models import Appointment, Schedule


def assert_schedule_invariants(schedule_id: int) -> None:
    schedule = Schedule.objects.get(pk=schedule_id)
    active = list(
        Appointment.objects.filter(schedule_id=schedule_id, status__in=ACTIVE_STATUSES).values_list(
            "member_id", "queue_number"
        )
    )
    numbers = [number for _, number in active]
    members = [member for member, _ in active]
    # 1. never more than capacity, and the counter is exact
    assert len(active) <= schedule.capacity
    assert schedule.booked == len(active), (schedule.booked, len(active))
    # 2. one active appointment per member and schedule
    assert not [m for m, n in Counter(members).items() if n > 1]
    # 3. queue numbers unique and within 1..capacity
    assert len(set(numbers)) == len(numbers)
    assert all(1 <= number <= schedule.capacity for number in numbers)


def assert_member_within_limit(member) -> None:
    upcoming = Appointment.objects.filter(member=member, status__in=UPCOMING_STATUSES).count()
    assert upcoming <= member.level.max_active_appointments
