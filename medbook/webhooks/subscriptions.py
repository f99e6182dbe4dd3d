"""Subscriptions, managed by clinic admins in the console: writes (logged in the operation
log) and the reads of the console's pages."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, outbox
from ..errors import Forbidden, Invalid
from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .events import DELIVER_TASK, EVENTS, forget_subscribed_events, retry_window
from .signing import new_secret
from .targets import check_target

PERMISSION = "medbook.manage_webhooks"


def _check(by) -> None:
    if not by.has_perm(PERMISSION):
        raise Forbidden()


def _clean(*, url: str, events: list[str], description: str) -> dict:
    chosen = [event for event in EVENTS if event in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise Invalid(_("Choose at least one event from the list."), field="events")
    return {"url": check_target(url), "events": chosen, "description": description.strip()[:200]}


def _logged(subscription: WebhookSubscription) -> dict:
    return {
        "url": subscription.url,
        "events": subscription.events,
        "active": subscription.active,
        "description": subscription.description,
    }


def create_subscription(
    *,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
    by,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (the only time the secret is returned)."""
    _check(by)
    now = now or timezone.now()
    fields = _clean(url=url, events=events, description=description)
    secret = new_secret()
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            **fields,
            active=active,
            secret=secret,
            created_by=by,
            created_at=now,
            updated_at=now,
            secret_rotated_at=now,
        )
        audit.record(
            actor=by,
            action="webhook.create",
            target=subscription,
            detail=_logged(subscription),
            request=request,
        )
        forget_subscribed_events()
    return subscription, secret


def update_subscription(
    *,
    subscription: WebhookSubscription,
    url: str,
    events: list[str],
    description: str = "",
    active: bool,
    by,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> WebhookSubscription:
    """Change the address, events, description or the active switch (logged)."""
    _check(by)
    fields = _clean(url=url, events=events, description=description) | {"active": active}
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        before = _logged(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_at = now or timezone.now()
        locked.save(update_fields=[*fields, "updated_at"])
        after = _logged(locked)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit.record(
            actor=by, action="webhook.update", target=locked, detail=changed, request=request
        )
        forget_subscribed_events()
    return locked


def rotate_secret(
    *,
    subscription: WebhookSubscription,
    by,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A new signing secret (returned once); the old one signs nothing from now on."""
    _check(by)
    secret = new_secret()
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        locked.secret = secret
        locked.secret_rotated_at = locked.updated_at = now or timezone.now()
        locked.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit.record(actor=by, action="webhook.rotate_secret", target=locked, request=request)
    return secret


def resend_delivery(
    *,
    delivery: WebhookDelivery,
    by,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> WebhookDelivery:
    """Send a delivery again (a new attempt of the same event id, with a new retry window)."""
    _check(by)
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .get(pk=delivery.pk)
        )
        if not locked.subscription.active:
            raise Invalid(_("Switch the subscription on before sending again."))
        locked.status = DeliveryStatus.PENDING
        locked.next_attempt_at = now
        locked.give_up_at = now + retry_window()
        locked.resent_by = by
        locked.save(update_fields=["status", "next_attempt_at", "give_up_at", "resent_by"])
        audit.record(
            actor=by,
            action="webhook.resend",
            target=locked.subscription,
            detail={"event": str(locked.event_id), "delivery": locked.pk},
            request=request,
        )
        outbox.enqueue(DELIVER_TASK, locked.pk)
    return locked


# -- reads -------------------------------------------------------------------------------------


def subscriptions() -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.order_by("-active", "pk")


def subscription(*, pk: int) -> WebhookSubscription | None:
    return WebhookSubscription.objects.filter(pk=pk).first()


def delivery_of(*, subscription: WebhookSubscription, pk: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(subscription=subscription, pk=pk).first()


def deliveries_of(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """The subscription's deliveries, newest first, each with its event and attempts."""
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related(
            Prefetch(
                "attempt_rows",
                queryset=WebhookAttempt.objects.select_related("resent_by").order_by("number"),
            )
        )
        .order_by("-created_at", "-pk")
    )


def event_choices() -> list[tuple[str, str]]:
    return [(key, f"{key} — {label}") for key, label in EVENTS.items()]
