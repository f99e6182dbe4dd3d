"""Promised jobs handed to the broker by a listener, not by the request that promised them.

The outbox's usual hand-over runs in the request, after its commit: a publish to the broker and
an ``UPDATE`` marking the row sent — more than a third of a booking's cost at a release. A
statement that writes outbox rows may instead notify :data:`CHANNEL` with their ids
(:func:`notify`); PostgreSQL delivers the notification when, and only if, the transaction
commits. Each Celery worker listens (:class:`medbook.celery.OutboxListener`; or
``manage.py listen_outbox`` as a process of its own) and hands the rows over in batches, a few
milliseconds after the commit. Nothing is lost when nobody listens, or a listener dies, or a
notification is dropped: the rows stay unsent and the relay (``relay_outbox``, every few
seconds) hands them over once their grace has passed, as it does for every row. Two listeners
never both send a row: each claims its rows with a conditional update first.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

import psycopg
from django.db import connection, connections
from django.utils import timezone

from . import outbox
from .models import OutboxTask

logger = logging.getLogger("medbook.outbox")

CHANNEL = "medbook_outbox"
# After the first notification, how long the listener waits for more to send them together.
BATCH_SECONDS = 0.05
RECONNECT_SECONDS = 2.0


def notify(column: str) -> str:
    """SQL notifying the listener of the outbox row whose id is ``column`` (in a statement that
    writes the row; delivered at commit)."""
    return f"pg_notify('{CHANNEL}', {column}::text)"


def hand_over_notified(ids: list[int], *, now: dt.datetime | None = None) -> int:
    """Hand over the rows ``ids`` just committed: those still unsent and unclaimed are claimed
    for :data:`outbox.LEASE` and read in one conditional update (a row another listener or the
    relay holds is skipped), then sent and marked; a row the broker refused is released for
    the relay. Returns how many were sent."""
    now = now or timezone.now()
    table = connection.ops.quote_name(OutboxTask._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET relay_after = %s "  # noqa: S608 (the model's table)
            "WHERE id = ANY(%s) AND sent_at IS NULL AND relay_after <= %s "
            "RETURNING id, task, args",
            [now + outbox.LEASE, ids, now + outbox.RELAY_GRACE],
        )
        rows = [
            OutboxTask(pk=pk, task=task, args=json.loads(args) if isinstance(args, str) else args)
            for pk, task, args in sorted(cursor.fetchall())
        ]
    if not rows:
        return 0
    sent = outbox.hand_over(rows)
    if sent < len(rows):
        unsent = [row.pk for row in rows]
        OutboxTask.objects.filter(pk__in=unsent, sent_at__isnull=True).update(relay_after=now)
    return sent


def listen(stop: threading.Event) -> None:
    """Hand over notified rows until ``stop`` is set (a thread of a worker, or a process):
    reconnects after any failure, one log line each time."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    while not stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as listening:
                listening.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    ids = [int(n.payload) for n in listening.notifies(timeout=1.0, stop_after=1)]
                    if not ids:
                        continue
                    ids += [int(n.payload) for n in listening.notifies(timeout=BATCH_SECONDS)]
                    hand_over_notified(ids)
        except Exception as exc:  # the database or the broker failed: the relay covers it
            logger.warning("Outbox listener: %s; listening again shortly", exc)
            stop.wait(RECONNECT_SECONDS)
        finally:
            connection.close()


class ListenerThread(threading.Thread):
    """:func:`listen` in a daemon thread; ``stop()`` ends it."""

    def __init__(self) -> None:
        super().__init__(name="outbox-listener", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        listen(self.stopping)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.join(timeout)
