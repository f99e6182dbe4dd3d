"""Concurrent bookings on whichever database the suite runs on (SQLite included): the embedded
default relies on IMMEDIATE transactions instead of row locks and must not overbook either."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import booking_job, outcome, run_in_threads
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def test_twenty_threads_booking_five_slots_book_exactly_five(levels) -> None:
    schedule = ScheduleFactory(capacity=5)
    members = [MemberFactory() for _ in range(20)]

    results = run_in_threads([booking_job(m.pk, schedule.pk) for m in members])

    assert Counter(outcome(r) for r in results) == {"booked": 5, "sold_out": 15}
    assert_schedule_invariants(schedule.pk)
