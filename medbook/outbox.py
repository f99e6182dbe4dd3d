"""The transactional outbox: jobs promised by a business change survive a broker outage.

``enqueue()`` writes the job as a row in the caller's transaction, so the promise is committed
exactly when the change is. After commit the row is handed to the broker at once and marked
sent; if the broker is down (or the process dies first) the row stays unsent and the relay job
(``medbook.tasks.relay_outbox``, every few seconds, and at every worker start) hands it over
once the broker is back. A row can be handed over twice (sent, then the process died before
marking it), so every job behind the outbox must be idempotent — they are: each claims its work
with a conditional update or checks the state it would change.

While the broker is failing, each process stops trying for ``OUTBOX_BROKER_PAUSE`` seconds after
a failure, so requests don't each wait for a connection timeout; one log line says so.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Iterable

from celery import Task
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from .breaker import CircuitBreaker
from .models import OutboxTask

logger = logging.getLogger("medbook.outbox")

# Rows younger than this are left to the hand-over after commit.
RELAY_GRACE = dt.timedelta(seconds=5)
SENT_RETENTION = dt.timedelta(days=7)
LEASE = dt.timedelta(minutes=1)  # a relay's claim on the rows it is handing over


broker = CircuitBreaker(
    logger=logger,
    seconds=lambda: settings.OUTBOX_BROKER_PAUSE,
    down="Broker unavailable (%s): promised jobs wait in the outbox",
    up="Broker reachable again: relaying the outbox",
)


def enqueue(task: str, *args: object, countdown: int | None = None) -> OutboxTask:
    """Promise the job ``task(*args)`` as part of the current transaction.

    Called inside the change's ``transaction.atomic`` (outside one, the row commits at once).
    ``countdown`` delays the job (the broker holds it back).
    """
    # No savepoint: a promise that cannot be written fails the change that made it.
    with transaction.atomic(savepoint=False):
        row = new_task(task, *args, countdown=countdown)
        row.save(force_insert=True)
        hand_over_after_commit(row, countdown=countdown)
    return row


def new_task(task: str, *args: object, countdown: int | None = None) -> OutboxTask:
    """The row :func:`enqueue` writes, not yet saved."""
    return OutboxTask(
        task=task,
        args=list(args),
        relay_after=timezone.now() + RELAY_GRACE + dt.timedelta(seconds=countdown or 0),
    )


def hand_over_after_commit(row: OutboxTask, countdown: int | None = None) -> None:
    """Hand ``row`` (written in the current transaction, by :func:`enqueue` or by a statement
    of its own) to the broker once the transaction commits."""
    transaction.on_commit(lambda: _hand_over_now(row, countdown=countdown), robust=True)


def _hand_over_now(row: OutboxTask, countdown: int | None = None) -> None:
    """The after-commit hand-over. PostgreSQL lost between the commit and marking the row sent
    (seen in the fault tests) costs nothing: the row stays unsent, the relay sends it again,
    and the job is idempotent. One line in the log, not a traceback."""
    try:
        hand_over([row], countdown=countdown)
    except DatabaseError as exc:
        logger.warning("Job %s: hand-over not recorded, the relay will see to it: %s", row.pk, exc)


def _task(name: str) -> Task:
    """The task named ``name`` (its module imported: web processes don't autodiscover)."""
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _send(row: OutboxTask, countdown: int | None = None) -> None:
    _task(row.task).apply_async(
        args=row.args, countdown=countdown, retry=False, headers={"outbox_id": row.pk}
    )


def hand_over(rows: Iterable[OutboxTask], countdown: int | None = None) -> int:
    """Send ``rows`` to the broker and mark them sent (in one statement); stop at the first
    broker failure."""
    sent: list[int] = []
    try:
        for row in rows:
            if not broker.allows():
                break
            try:
                _send(row, countdown)
            except Exception as exc:  # any broker or connection error: the row stays unsent
                broker.failed(exc)
                OutboxTask.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:200]
                )
                break
            broker.succeeded()
            sent.append(row.pk)
    finally:
        if sent:
            OutboxTask.objects.filter(pk__in=sent, sent_at__isnull=True).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1
            )
    return len(sent)


def relay(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Hand over every promised job the after-commit hand-over did not (the periodic job).

    Each row is first claimed for ``LEASE`` with a conditional UPDATE, so relays running at
    once never send the same row; the broker is then called outside any transaction. A row
    whose hand-over fails is released for the next run. Returns how many were sent.
    """
    now = now or timezone.now()
    total = 0
    broker.retry_now()  # the relay itself always tries
    while True:
        due = OutboxTask.objects.filter(sent_at__isnull=True, relay_after__lte=now)
        ids = list(due.order_by("relay_after", "pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        lease = max(now, timezone.now()) + LEASE
        claimed = [pk for pk in ids if due.filter(pk=pk).update(relay_after=lease)]
        rows = list(OutboxTask.objects.filter(pk__in=claimed).order_by("pk"))
        sent = hand_over(rows)
        total += sent
        if sent < len(rows):  # the broker failed: release the rest, try again next time
            OutboxTask.objects.filter(pk__in=claimed, sent_at__isnull=True).update(relay_after=now)
            return total


def purge_sent(*, now: dt.datetime | None = None) -> int:
    """Forget rows handed over more than a week ago."""
    now = now or timezone.now()
    deleted, _ = OutboxTask.objects.filter(sent_at__lt=now - SENT_RETENTION).delete()
    return deleted
