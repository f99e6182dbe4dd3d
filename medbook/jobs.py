"""MedBook's periodic jobs, in one place. After every ``migrate`` each missing job is added to
django-celery-beat's tables (plumbing in ``MedbookConfig.ready``); jobs already there keep
whatever schedule an admin gave them, so the schedule is edited in the database, and the beat
process (exactly one) reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every_seconds: int | None = None  # an interval ...
    crontab: str | None = None  # ... or "minute hour" in the clinic's time zone
    description: StrOrPromise = ""
    title: StrOrPromise = ""  # what the console calls it (the name is the beat table's key)


# Jobs Celery beat adds by itself: what the console calls them and what they do.
FOREIGN_JOBS: dict[str, tuple[StrOrPromise, StrOrPromise]] = {
    "celery.backend_cleanup": (
        _("Clean up old task results"),
        _("Celery deletes the results of finished background tasks once they have expired"),
    ),
}


JOBS = [
    Job(
        "relay-outbox",
        "medbook.tasks.relay_outbox",
        title=_("Hand promised work to the broker"),
        every_seconds=10,
        description=_(
            "Hand promised jobs (payment notices, refunds, messages) to the broker "
            "when the hand-over after their commit failed"
        ),
    ),
    Job(
        "send-overdue-webhooks",
        "medbook.tasks.send_overdue_webhooks",
        every_seconds=60,
        title=_("Resend lost webhook deliveries"),
        description=_(
            "Send webhook deliveries whose retry job was lost (each is retried with backoff for "
            "24 hours by its own job); forget events past their keeping time"
        ),
    ),
    Job(
        "release-due-schedules",
        "appointments.tasks.release_due_schedules",
        title=_("Open sessions for booking"),
        every_seconds=60,
        description=_("Publish drafts whose opening has come; catches up after downtime"),
    ),
    Job(
        "expire-unpaid-orders",
        "billing.tasks.expire_unpaid_orders",
        title=_("Release unpaid holds"),
        every_seconds=60,
        description=_("Close unpaid holds past their time and free the slots"),
    ),
    Job(
        "sweep-waitlist",
        "appointments.tasks.sweep_waitlist",
        title=_("Pass on waitlist offers"),
        every_seconds=60,
        description=_(
            "Pass slots held for waitlist offers that ran out to the next member waiting; "
            "close waitlist places of sessions that passed or were cancelled"
        ),
    ),
    Job(
        "recover-payments-and-refunds",
        "billing.tasks.recover_payments_and_refunds",
        title=_("Recover payments and refunds"),
        every_seconds=60,
        description=_(
            "Notify payments never acknowledged, carry out refunds left requested, "
            "ask the gateways about orders closed unpaid"
        ),
    ),
    Job(
        "sweep-no-shows",
        "appointments.tasks.sweep_no_shows",
        title=_("Mark no-shows"),
        every_seconds=600,
        description=_("Mark still-confirmed appointments no-show after the session and grace"),
    ),
    Job(
        "finish-past-schedules",
        "appointments.tasks.finish_past_schedules",
        title=_("Finish past sessions"),
        every_seconds=300,
        description=_("Mark ended sessions finished"),
    ),
    Job(
        "send-visit-reminders",
        "appointments.tasks.send_visit_reminders",
        title=_("Visit reminders"),
        crontab="0 *",
        description=_("Remind members of tomorrow's appointments, once each"),
    ),
    Job(
        "send-release-reminders",
        "appointments.tasks.send_release_reminders",
        title=_("Release reminders"),
        every_seconds=60,
        description=_(
            "Tell members who asked to be reminded that a session is open to them now (at "
            "their level's opening time), once each; drop reminders of cancelled or past sessions"
        ),
    ),
    Job(
        "deliver-pending-messages",
        "members.tasks.deliver_pending_messages",
        title=_("Deliver pending texts and e-mails"),
        every_seconds=300,
        description=_("Texts and e-mails that were never queued or ran out of retries"),
    ),
    Job(
        "settle-yesterday",
        "billing.tasks.settle_yesterday",
        title=_("Daily settlement"),
        crontab="0 2",
        description=_("Daily settlement against the gateways' statements"),
    ),
    Job(
        "copy-release-demand",
        "appointments.tasks.copy_release_demand",
        title=_("Record release demand"),
        every_seconds=120,
        description=_(
            "Copy the release gate's counts of attempts refused as sold out "
            "from Redis into the database (idempotent)"
        ),
    ),
    Job(
        "refresh-report-rollups",
        "reports.tasks.refresh_report_rollups",
        title=_("Refresh report figures"),
        every_seconds=600,
        description=_(
            "Recompute the reports' daily figures of the last days and the days booked "
            "ahead from the raw tables (older days: manage.py rebuild_reports)"
        ),
    ),
    Job(
        "sweep-report-exports",
        "reports.tasks.sweep_exports",
        title=_("Clean up report exports"),
        every_seconds=60,
        description=_(
            "Delete report exports past their time (MEDBOOK_EXPORT_KEEP_HOURS); queue "
            "again the exports whose worker died"
        ),
    ),
    Job(
        "purge-ended-api-logins",
        "medbook.tasks.purge_ended_api_logins",
        crontab="20 3",
        title=_("Forget ended API logins"),
        description=_("Forget the API logins that ended (expired or revoked) over 30 days ago"),
    ),
    Job(
        "purge-booking-keys",
        "billing.tasks.purge_booking_keys",
        crontab="40 3",
        title=_("Forget old booking keys"),
        description=_("Forget the API's booking idempotency keys older than a week"),
    ),
    Job(
        "expire-unverified-signups",
        "members.tasks.expire_unverified_signups",
        every_seconds=600,
        title=_("Expire unconfirmed sign-ups"),
        description=_(
            "Delete sign-ups whose mobile number was never confirmed by its code, so that "
            "the number's real owner can sign up"
        ),
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
            name=job.name, task=job.task, description=str(job.description), **schedule
        )


def crontab_expression(cron: Any) -> str:
    """A crontab schedule's five fields, e.g. "0 2 * * *"."""
    fields = [cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week]
    return " ".join(str(field) for field in fields)


def crontab_in_words(cron: Any) -> str:
    """A crontab schedule as a sentence in the active language (django-celery-beat's own
    ``human_readable`` is English only): hourly and daily runs in our words, others in
    cron_descriptor's for the language with the weekday and month names from Django's
    translations; the time zone when it is not the clinic's."""
    import calendar

    from cron_descriptor import ExpressionDescriptor, FormatException, Options
    from django.conf import settings
    from django.utils.dates import MONTHS, WEEKDAYS
    from django.utils.translation import get_language

    zone = str(cron.timezone)
    where = "" if zone == settings.TIME_ZONE else f" ({zone})"
    if (cron.day_of_month, cron.month_of_year, cron.day_of_week) == ("*", "*", "*"):
        # The clinic's own jobs run hourly or daily: said the way the console says them.
        if cron.minute.isdigit() and cron.hour == "*":
            return _("every hour at minute %(m)s") % {"m": cron.minute} + where
        if cron.minute.isdigit() and cron.hour.isdigit():
            time = f"{int(cron.hour):02d}:{int(cron.minute):02d}"
            return _("every day at %(time)s") % {"time": time} + where
    options = Options()
    options.locale_code = "zh_CN" if (get_language() or "").startswith("zh") else "en_US"
    options.use_24hour_time_format = True
    expression = crontab_expression(cron)
    try:
        words = ExpressionDescriptor(expression, options).get_description()
    except (FormatException, ValueError):
        words = expression
    # The package names days and months with the process's (English) locale.
    for number, name in enumerate(calendar.day_name):
        words = words.replace(name, str(WEEKDAYS[number]))
    for number, name in enumerate(calendar.month_name[1:], start=1):
        words = words.replace(name, str(MONTHS[number]))
    return words + where
