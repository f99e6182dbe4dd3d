"""The demo seed's waitlist (候补): with two full sessions or more, three members wait for the
last one and nobody for the others."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from appointments.models import WaitlistEntry
from demo.management.commands.seed_demo import Command
from members.patients import self_patient
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def seeder() -> Command:
    command = Command()
    command.now = timezone.now()
    command.more = random.Random(7)
    return command


def test_three_members_wait_for_the_last_full_session(levels) -> None:
    first = ScheduleFactory(capacity=1)
    last = ScheduleFactory(capacity=1, date=first.date + dt.timedelta(days=1))
    for schedule in (first, last):
        book(MemberFactory(), schedule)
    for _ in range(4):
        self_patient(member=MemberFactory())

    assert seeder().load_waitlist() == 3

    entries = WaitlistEntry.objects.all()
    assert {entry.schedule_id for entry in entries} == {last.pk}
    assert not last.appointments.filter(member__in=[e.member_id for e in entries]).exists()


def test_a_single_full_session_keeps_no_queue(levels) -> None:
    book(MemberFactory(), ScheduleFactory(capacity=1))
    self_patient(member=MemberFactory())
    assert seeder().load_waitlist() == 0
