"""The outbox listener (medbook.outbox_listener): rows whose commit notified it are handed to
the broker at once, each once however many listen, and the relay still covers a row nobody
heard of."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connections, transaction
from django.utils import timezone

from medbook import outbox
from medbook.models import OutboxTask
from medbook.outbox_listener import ListenerThread, hand_over_notified, notify
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TASK = "medbook.tasks.relay_outbox"  # a job that is harmless wherever it runs


def promise(*, notified: bool = True) -> int:
    """An outbox row written by a statement of its own (as the express booking writes its
    rows), notifying the listener when ``notified``; committed."""
    with transaction.atomic():
        row = outbox.new_task(TASK)
        row.save(force_insert=True)
        if notified:
            with connections["default"].cursor() as cursor:
                cursor.execute(f"SELECT {notify('%s')}", [row.pk])
    return row.pk


def test_a_listener_hands_over_a_notified_row_within_its_grace() -> None:
    listener = ListenerThread()
    listener.start()
    try:
        eventually(lambda: _listening(), timeout=10)
        pk = promise()
        # Well within RELAY_GRACE (5 s): the relay would not have touched it yet.
        eventually(lambda: OutboxTask.objects.get(pk=pk).sent_at is not None, timeout=3)
    finally:
        listener.stop()
    assert OutboxTask.objects.get(pk=pk).attempts == 1


def test_two_listeners_send_each_row_once() -> None:
    listeners = [ListenerThread(), ListenerThread()]
    for listener in listeners:
        listener.start()
    try:
        eventually(lambda: _listening() >= 2, timeout=10)
        rows = [promise() for _ in range(20)]
        eventually(
            lambda: OutboxTask.objects.filter(pk__in=rows, sent_at__isnull=True).count() == 0,
            timeout=5,
        )
    finally:
        for listener in listeners:
            listener.stop()
    assert set(OutboxTask.objects.filter(pk__in=rows).values_list("attempts", flat=True)) == {1}


def test_a_row_claimed_or_sent_elsewhere_is_skipped() -> None:
    sent, leased, fresh = (promise(notified=False) for _ in range(3))
    OutboxTask.objects.filter(pk=sent).update(sent_at=timezone.now(), attempts=1)
    OutboxTask.objects.filter(pk=leased).update(relay_after=timezone.now() + outbox.LEASE)

    assert hand_over_notified([sent, leased, fresh]) == 1

    assert OutboxTask.objects.get(pk=fresh).sent_at is not None
    assert OutboxTask.objects.get(pk=leased).sent_at is None
    assert OutboxTask.objects.get(pk=sent).attempts == 1


def test_a_row_nobody_heard_of_is_relayed_after_its_grace() -> None:
    pk = promise(notified=True)  # no listener: the notification is lost
    assert OutboxTask.objects.get(pk=pk).sent_at is None

    assert outbox.relay(now=timezone.now() + outbox.RELAY_GRACE + dt.timedelta(seconds=1)) == 1
    assert OutboxTask.objects.get(pk=pk).sent_at is not None


def test_a_listener_stops_when_asked() -> None:
    listener = ListenerThread()
    listener.start()
    eventually(lambda: _listening(), timeout=10)
    listener.stop(timeout=5)
    assert not listener.is_alive()
    eventually(lambda: _listening() == 0, timeout=5)


def _listening() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN medbook_outbox' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0]
