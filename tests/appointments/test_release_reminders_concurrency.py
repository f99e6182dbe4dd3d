"""Two workers running the release-reminder job at the same moment send each reminder exactly
once (PostgreSQL, threads with their own connections)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from appointments import services
from appointments.choices import ReminderStatus
from appointments.models import ReleaseReminder
from medbook.models import OutboxTask
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_runs_at_once_send_every_reminder_exactly_once(levels) -> None:
    opening = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    day = timezone.localdate(opening) + dt.timedelta(days=2)
    sessions = [ScheduleFactory(release_at=opening, date=day) for _ in range(3)]
    for member in [MemberFactory(level=levels["普通"]) for _ in range(20)]:
        for session in sessions:
            services.set_release_reminder(member=member, schedule=session)
    total = ReleaseReminder.objects.count()

    def job():
        return services.send_release_reminders(now=opening, batch=7)

    for _round in range(2):  # the second round finds nothing left to send
        results = run_in_threads([job, job, job])
        assert all(isinstance(n, int) for n in results), results
        assert sum(results) == (total if _round == 0 else 0)

    assert set(ReleaseReminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}
    per_reminder = Counter(Message.objects.values_list("reference", "member_id"))
    assert len(per_reminder) == total and set(per_reminder.values()) == {1}
    assert OutboxTask.objects.filter(task="members.tasks.deliver_message").count() == total
