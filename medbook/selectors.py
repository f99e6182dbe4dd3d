"""Reads of the cross-cutting tables: the periodic jobs and the operation log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import ngettext
from django_celery_beat.models import PeriodicTask

from .jobs import FOREIGN_JOBS, JOBS, crontab_in_words
from .models import OperationLog, Outcome
from .operations import ACTIONS

__all__ = [
    "OUTCOME_CHOICES",
    "LogCursor",
    "LogPage",
    "operation_log",
    "operation_log_page",
    "periodic_jobs",
]

OUTCOME_CHOICES = Outcome.choices


@dataclass(frozen=True)
class JobRow:
    """One periodic job as the console shows it: a human name and what it does."""

    task: PeriodicTask
    title: str
    description: str
    runs: str  # when it runs, in words


def runs_in_words(task: PeriodicTask) -> str:
    """When a periodic job runs, as the console and admin say it."""
    if task.interval is not None:
        seconds = task.interval.every * _SECONDS.get(task.interval.period, 1)
        if seconds % 3600 == 0:
            return ngettext("every hour", "every %(n)d hours", seconds // 3600) % {
                "n": seconds // 3600
            }
        if seconds % 60 == 0:
            return ngettext("every minute", "every %(n)d minutes", seconds // 60) % {
                "n": seconds // 60
            }
        return ngettext("every second", "every %(n)d seconds", seconds) % {"n": seconds}
    return crontab_in_words(task.crontab) if task.crontab is not None else ""


_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 0}


def _described(task: PeriodicTask) -> tuple[str, str]:
    described = {job.name: (job.title or job.name, job.description) for job in JOBS}
    described.update(FOREIGN_JOBS)
    title, description = described.get(task.name, (task.name, task.description))
    return str(title), str(description)


def job_title(task: PeriodicTask) -> str:
    """What the console calls a periodic job: ours and Celery's by their names in the reader's
    language, one added in admin by the name it was given."""
    return _described(task)[0]


def periodic_jobs() -> list[JobRow]:
    """Every periodic job with its schedule, its name and what it does — in our words (and the
    reader's language) when it is ours or one Celery adds itself; a job someone added in admin
    keeps the name and description it was given there."""
    tasks = PeriodicTask.objects.select_related("interval", "crontab").order_by("name")
    rows = []
    for task in tasks:
        title, description = _described(task)
        rows.append(
            JobRow(
                task=task,
                title=str(title),
                description=str(description),
                runs=runs_in_words(task),
            )
        )
    return sorted(rows, key=lambda row: row.title)


def operation_log(
    *, action: str = "", actor: str = "", outcome: str = "", day: dt.date | None = None
) -> QuerySet[OperationLog]:
    """The operation log, newest first: the operation ``action`` (or those whose code starts
    with it), by the login ``actor``, with ``outcome``, on ``day`` (each when given)."""
    rows = OperationLog.objects.select_related("actor").order_by("-created_at", "-pk")
    if action in ACTIONS:  # one operation, chosen by name
        rows = rows.filter(action=action)
    elif action:  # an area: every operation whose code starts so
        rows = rows.filter(action__startswith=action)
    if actor:
        # The login's id first, as a value: with the join (or a sub-select) PostgreSQL cannot
        # tell a login with few rows from one with many and walks the whole log by time; with
        # the id it reads that login's rows from the (actor, time) index.
        user = get_user_model().objects.filter(username=actor).values_list("pk", flat=True)
        actor_id = user.first()
        rows = rows.filter(actor_id=actor_id) if actor_id is not None else rows.none()
    if outcome in Outcome.values:
        rows = rows.filter(outcome=outcome)
    if day is not None:
        # The clinic's day as a range of the indexed column (``__date`` converts every row).
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        rows = rows.filter(created_at__gte=start, created_at__lt=start + dt.timedelta(days=1))
    return rows


@dataclass(frozen=True)
class LogCursor:
    """A place in the log (time, id), as a link carries it: ``<ISO time>_<id>``."""

    created_at: dt.datetime
    pk: int

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()}_{self.pk}"

    @classmethod
    def parse(cls, value: str) -> LogCursor | None:
        """The cursor in ``value``, or None when it is not one (a hand-edited link)."""
        moment, _sep, pk = (value or "").rpartition("_")
        try:
            created_at = dt.datetime.fromisoformat(moment)
        except ValueError:
            return None
        if not pk.isdigit() or timezone.is_naive(created_at):
            return None
        return cls(created_at, int(pk))


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest first, and where the pages next to it start."""

    rows: list[OperationLog]
    newer: LogCursor | None  # the page before (newer rows): ``after=`` this
    older: LogCursor | None  # the page after (older rows): ``before=`` this


def operation_log_page(
    *,
    rows: QuerySet[OperationLog],
    before: LogCursor | None = None,
    after: LogCursor | None = None,
    size: int = 50,
) -> LogPage:
    """A page of ``rows`` (newest first) by keyset: the rows older than ``before``, or newer
    than ``after``, or the newest. Each page is an index range of (time, id) at any depth —
    no ``OFFSET`` to read past, no count of the whole log."""
    if after is not None:
        page = list(
            rows.filter(created_at__gte=after.created_at)
            .exclude(created_at=after.created_at, pk__lte=after.pk)
            .order_by("created_at", "pk")[: size + 1]
        )
        more_newer = len(page) > size
        page = page[:size][::-1]
        more_older = True
    else:
        if before is not None:
            rows = rows.filter(created_at__lte=before.created_at).exclude(
                created_at=before.created_at, pk__gte=before.pk
            )
        page = list(rows.order_by("-created_at", "-pk")[: size + 1])
        more_older = len(page) > size
        page = page[:size]
        more_newer = before is not None
    if not page:
        return LogPage(rows=[], newer=None, older=None)
    return LogPage(
        rows=page,
        newer=LogCursor(page[0].created_at, page[0].pk) if more_newer else None,
        older=LogCursor(page[-1].created_at, page[-1].pk) if more_older else None,
    )
