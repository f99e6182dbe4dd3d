"""Periodic jobs of the appointments app and their registration with Celery beat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from appointments import tasks
from appointments.choices import ScheduleStatus
from medbook.celery import app
from tests.appointments.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


def test_finish_past_schedules_runs_as_a_task(levels) -> None:
    ended = ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=2))

    assert tasks.finish_past_schedules.apply().get() == 1

    ended.refresh_from_db()
    assert ended.status == ScheduleStatus.FINISHED


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
