"""Reads of the cross-cutting tables: the periodic jobs and the operation log."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django_celery_beat.models import PeriodicTask

from .jobs import JOBS
from .models import OperationLog, Outcome

__all__ = ["OUTCOME_CHOICES", "operation_log", "periodic_jobs"]

OUTCOME_CHOICES = Outcome.choices


def periodic_jobs() -> list[tuple[PeriodicTask, str]]:
    """Every periodic job with its schedule, and what it does (our words when it is ours)."""
    described = {job.name: job.description for job in JOBS}
    tasks = PeriodicTask.objects.select_related("interval", "crontab").order_by("name")
    return [(task, described.get(task.name, task.description)) for task in tasks]


def operation_log(
    *, action: str = "", actor: str = "", outcome: str = "", day: dt.date | None = None
) -> QuerySet[OperationLog]:
    """The operation log, newest first: operations starting with ``action``, by the login
    ``actor``, with ``outcome``, on ``day`` (each when given)."""
    rows = OperationLog.objects.select_related("actor").order_by("-created_at", "-pk")
    if action:
        rows = rows.filter(action__startswith=action)
    if actor:
        rows = rows.filter(actor__username=actor)
    if outcome in Outcome.values:
        rows = rows.filter(outcome=outcome)
    if day is not None:
        rows = rows.filter(created_at__date=day)
    return rows
