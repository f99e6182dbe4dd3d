"""Periodic jobs of the appointments app and their registration with Celery beat."""

from __future__ import annotations

import datetime as dt

import pytest
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


def test_every_job_names_a_registered_task_and_is_in_the_database() -> None:
    from django_celery_beat.models import PeriodicTask

    from medbook.jobs import JOBS

    app.loader.import_default_modules()
    stored = dict(PeriodicTask.objects.values_list("name", "task"))
    for job in JOBS:
        assert job.task in app.tasks
        assert stored[job.name] == job.task


def test_an_edited_job_schedule_survives_the_next_migrate() -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from medbook.jobs import ensure_periodic_tasks

    task = PeriodicTask.objects.get(name="sweep-no-shows")
    task.interval = IntervalSchedule.objects.create(every=120, period="seconds")
    task.save()
    ensure_periodic_tasks()
    assert PeriodicTask.objects.get(name="sweep-no-shows").interval.every == 120


def test_a_job_whose_code_moved_follows_it_and_keeps_its_schedule() -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from medbook.jobs import ensure_periodic_tasks

    evening = CrontabSchedule.objects.create(minute="30", hour="20")
    PeriodicTask.objects.filter(name="send-visit-reminders").update(
        task="billing.tasks.send_visit_reminders", crontab=evening
    )
    ensure_periodic_tasks()
    job = PeriodicTask.objects.get(name="send-visit-reminders")
    assert (job.task, job.crontab_id) == ("appointments.tasks.send_visit_reminders", evening.pk)
