"""Several relay jobs at once (several workers) hand each promised job over once: each row is
claimed by one conditional UPDATE before the broker is called. Threads on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from medbook import outbox
from medbook.models import OutboxTask

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_relays_running_at_once_hand_each_job_over_once() -> None:
    for _ in range(60):
        OutboxTask.objects.create(
            task="members.tasks.deliver_message", args=[0], relay_after=timezone.now()
        )
    counts: list[int] = []

    def run() -> None:
        try:
            counts.append(outbox.relay(now=timezone.now() + dt.timedelta(minutes=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 60
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()
