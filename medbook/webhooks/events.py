"""The event catalogue and ``emit``: cheap when nobody subscribes.

Which event types have an active subscription is kept in the cache (one GET per ``emit``); only
when the event's type is among them does ``emit`` read the subscriptions and write rows. So a
booking costs no SQL statement for webhooks while nobody subscribes to ``appointment.booked``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import outbox
from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription

# type -> what it means, as admins read it when they choose
EVENTS: dict[str, Any] = {
    "appointment.booked": _("An appointment was booked"),
    "appointment.confirmed": _("An appointment was confirmed (paid, or free)"),
    "appointment.cancelled": _("An appointment was cancelled"),
    "appointment.checked_in": _("A patient checked in"),
    "appointment.completed": _("A visit was completed"),
    "appointment.no_show": _("A patient did not come"),
    "appointment.rescheduled": _("An appointment was moved to another session (改约)"),
    "payment.succeeded": _("A payment was received"),
    "refund.succeeded": _("A refund was paid back"),
    "schedule.suspended": _("A session was suspended (停诊)"),
}

CACHE_KEY = "webhooks:subscribed-events:v1"
CACHE_SECONDS = 60
DELIVER_TASK = "medbook.tasks.deliver_webhook"


def subscribed_events() -> frozenset[str]:
    """The event types at least one active subscription wants (cached)."""
    found = cache.get(CACHE_KEY)
    if found is None:
        found = sorted(
            {
                event
                for events in WebhookSubscription.objects.filter(active=True).values_list(
                    "events", flat=True
                )
                for event in events
            }
        )
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return frozenset(found)


def forget_subscribed_events() -> None:
    """Drop the cached answer once the current transaction commits (a subscription changed)."""
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def emit(
    event_type: str,
    payload: dict[str, Any] | Callable[[], dict[str, Any]],
    *,
    now: dt.datetime | None = None,
) -> WebhookEvent | None:
    """Promise ``event_type`` with ``payload`` to every active subscription that wants it.

    Call inside the change's transaction: the event, its deliveries and their outbox jobs
    commit or roll back with the change. Returns the event, or None when nobody subscribes
    (then nothing is written). ``payload`` holds ids, statuses, times and amounts, and
    personal data only masked; it may be a function that builds it, called only when someone
    subscribes (so building it costs nothing on the hot path).
    """
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    if event_type not in subscribed_events():
        return None
    subscribers = [
        pk
        for pk, events in WebhookSubscription.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "events")
        if event_type in events
    ]
    if not subscribers:
        return None
    if callable(payload):
        payload = payload()
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    now = now or timezone.now()
    give_up = now + retry_window()
    with transaction.atomic(savepoint=False):
        event = WebhookEvent.objects.create(
            id=uuid.uuid4(), type=event_type, payload=payload, created_at=now
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                event=event,
                subscription_id=pk,
                next_attempt_at=now,
                give_up_at=give_up,
                created_at=now,
            )
            for pk in subscribers
        )
        for delivery in deliveries:
            outbox.enqueue(DELIVER_TASK, delivery.pk)
    return event


def retry_window() -> dt.timedelta:
    from django.conf import settings

    return dt.timedelta(hours=settings.MEDBOOK_WEBHOOK_RETRY_HOURS)
