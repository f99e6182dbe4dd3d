"""MedBook's periodic jobs, in one place. After every ``migrate`` each missing job is added to
django-celery-beat's tables (plumbing in ``MedbookConfig.ready``); jobs already there keep
whatever schedule an admin gave them, so the schedule is edited in the database, and the beat
process (exactly one) reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every_seconds: int | None = None  # an interval ...
    crontab: str | None = None  # ... or "minute hour" in the clinic's time zone
    description: str = ""


JOBS = [
    Job(
        "relay-outbox",
        "medbook.tasks.relay_outbox",
        every_seconds=10,
        description="Hand promised jobs (payment notices, refunds, messages) to the broker "
        "when the hand-over after their commit failed",
    ),
    Job(
        "release-due-schedules",
        "appointments.tasks.release_due_schedules",
        every_seconds=60,
        description="放号: publish drafts whose opening has come; catches up after downtime",
    ),
    Job(
        "expire-unpaid-orders",
        "billing.tasks.expire_unpaid_orders",
        every_seconds=60,
        description="Close unpaid holds past their time and free the slots",
    ),
    Job(
        "recover-payments-and-refunds",
        "billing.tasks.recover_payments_and_refunds",
        every_seconds=60,
        description="Notify payments never acknowledged, carry out refunds left requested, "
        "ask the gateways about orders closed unpaid",
    ),
    Job(
        "sweep-no-shows",
        "appointments.tasks.sweep_no_shows",
        every_seconds=600,
        description="Mark still-confirmed appointments no-show after the session and grace",
    ),
    Job(
        "finish-past-schedules",
        "appointments.tasks.finish_past_schedules",
        every_seconds=300,
        description="Mark ended sessions finished",
    ),
    Job(
        "send-visit-reminders",
        "appointments.tasks.send_visit_reminders",
        crontab="0 *",
        description="Remind members of tomorrow's appointments, once each",
    ),
    Job(
        "deliver-pending-messages",
        "members.tasks.deliver_pending_messages",
        every_seconds=300,
        description="Texts and e-mails that were never queued or ran out of retries",
    ),
    Job(
        "settle-yesterday",
        "billing.tasks.settle_yesterday",
        crontab="0 2",
        description="Daily settlement against the gateways' statements",
    ),
    Job(
        "copy-release-demand",
        "appointments.tasks.copy_release_demand",
        every_seconds=120,
        description="放号需求: copy the release gate's counts of attempts refused as sold out "
        "from Redis into the database (idempotent)",
    ),
    Job(
        "refresh-report-rollups",
        "reports.tasks.refresh_report_rollups",
        every_seconds=600,
        description="Recompute the reports' daily figures of the last days and the days booked "
        "ahead from the raw tables (older days: manage.py rebuild_reports)",
    ),
    Job(
        "sweep-report-exports",
        "reports.tasks.sweep_exports",
        every_seconds=60,
        description="Delete report exports past their time (MEDBOOK_EXPORT_KEEP_HOURS); queue "
        "again the exports whose worker died",
    ),
]


def ensure_periodic_tasks(**kwargs: Any) -> None:
    """Add the jobs that are missing from django-celery-beat's tables (idempotent)."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for job in JOBS:
        if PeriodicTask.objects.filter(name=job.name).exists():
            # Ours by name: a job whose code moved keeps its (admin-edited) schedule.
            PeriodicTask.objects.filter(name=job.name).exclude(task=job.task).update(task=job.task)
            continue
        schedule: dict[str, Any]
        if job.every_seconds is not None:
            interval, _created = IntervalSchedule.objects.get_or_create(
                every=job.every_seconds, period=IntervalSchedule.SECONDS
            )
            schedule = {"interval": interval}
        else:
            minute, hour = (job.crontab or "0 0").split()
            cron, _created = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.CELERY_TIMEZONE,
            )
            schedule = {"crontab": cron}
        PeriodicTask.objects.create(
            name=job.name, task=job.task, description=job.description, **schedule
        )
