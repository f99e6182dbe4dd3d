"""Jobs for one delivery running at once (a relayed outbox row, the sweep, a re-send) make one
attempt: the delivery is claimed by a conditional UPDATE before the POST. Threads on
PostgreSQL, each with its own connection."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from medbook.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from medbook.webhooks.delivery import deliver
from tests.webhooks.receiver import reference_receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_jobs_racing_for_one_delivery_post_it_once() -> None:
    with reference_receiver(secret="whsec_race") as receiver:
        receiver.delay = 0.3
        subscription = WebhookSubscription.objects.create(
            url=receiver.url, events=["appointment.booked"], secret="whsec_race"
        )
        event = WebhookEvent.objects.create(
            id=uuid.uuid4(), type="appointment.booked", payload={"appointment": {"id": 1}}
        )
        now = timezone.now()
        delivery = WebhookDelivery.objects.create(
            event=event, subscription=subscription, next_attempt_at=now, give_up_at=now
        )
        results: list[bool] = []
        start = threading.Barrier(6)

        def run() -> None:
            try:
                start.wait()
                results.append(deliver(delivery_id=delivery.pk, now=now))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(results) == [False] * 5 + [True]
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
