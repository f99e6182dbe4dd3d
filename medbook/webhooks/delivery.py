"""Sending webhooks: one POST per attempt, recorded; retried with exponential backoff until a
2xx answer or the end of the retry window (then failed). At least once: an attempt whose
answer was lost is made again, with the same ``MedBook-Event-Id``.

A job claims its delivery with a conditional UPDATE (``next_attempt_at`` moves on by a lease),
so two jobs for one delivery (a relayed outbox row, the sweep) never POST at the same time;
the network is called outside any transaction. The POST goes to the addresses its check
resolved (``targets.resolve``), with the subscription's host name in ``Host`` and in TLS (SNI
and the certificate's name), so a name cannot point elsewhere between the check and the POST.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import certifi
import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import outbox
from ..errors import Invalid
from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEvent
from .events import DELIVER_TASK
from .signing import signature
from .targets import Target, resolve

logger = logging.getLogger("medbook.webhooks")

LEASE = dt.timedelta(minutes=1)  # longer than one POST may take
FIRST_RETRY = dt.timedelta(minutes=1)
OVERDUE = dt.timedelta(minutes=2)  # the sweep sends deliveries whose job is this late
USER_AGENT = "MedBook-Webhooks/1"


def backoff(attempts: int) -> dt.timedelta:
    """How long after the ``attempts``-th failed attempt the next one is made: 1, 2, 4 …
    minutes, at most ``MEDBOOK_WEBHOOK_BACKOFF_CAP_MINUTES``."""
    cap = dt.timedelta(minutes=settings.MEDBOOK_WEBHOOK_BACKOFF_CAP_MINUTES)
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 30), cap)


def body_of(delivery: WebhookDelivery) -> bytes:
    event = delivery.event
    document = {
        "id": str(event.id),
        "type": event.type,
        "created": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _post(delivery: WebhookDelivery, attempt: int) -> tuple[int | None, int, str]:
    """POST the event once: (status code or None, milliseconds, error)."""
    subscription = delivery.subscription
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "MedBook-Event-Id": str(delivery.event_id),
        "MedBook-Event-Type": delivery.event.type,
        "MedBook-Delivery-Attempt": str(attempt),
        "MedBook-Signature": signature(
            secret=subscription.secret, timestamp=int(time.time()), body=body
        ),
    }
    started = time.monotonic()
    try:
        status = send(resolve(subscription.url), body=body, headers=headers)
    except Invalid as exc:
        return None, 0, exc.message[:200]
    except urllib3.exceptions.HTTPError as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return None, elapsed, f"{_kind(exc)}: {exc}"[:200]
    elapsed = int((time.monotonic() - started) * 1000)
    return status, elapsed, ""


def send(target: Target, *, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to the first of the target's checked addresses that accepts a connection;
    its status code. No redirect is followed (a redirect's target was never checked), no proxy
    is used (it would look the name up again)."""
    headers = {**headers, "Host": target.host_header}
    *others, last = target.addresses
    for address in others:
        try:
            return _send_to(address, target, body=body, headers=headers)
        except urllib3.exceptions.ConnectTimeoutError:  # refused or silent: the next address
            continue
    return _send_to(last, target, body=body, headers=headers)


def _send_to(address: str, target: Target, *, body: bytes, headers: dict[str, str]) -> int:
    options: dict = {
        "port": target.port,
        "timeout": urllib3.Timeout(total=settings.MEDBOOK_WEBHOOK_TIMEOUT_SECONDS),
        "retries": False,
        "maxsize": 1,
    }
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=settings.MEDBOOK_WEBHOOK_CA_FILE or certifi.where(),
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, **options)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,  # the answer's body is not read: only its status
        )
        response.close()
        return response.status


def _kind(exc: Exception) -> str:
    """What an attempt's failure was, in the words of the attempts' list."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "ConnectionError"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "Timeout"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "SSLError"
    return type(exc).__name__


def deliver(*, delivery_id: int, now: dt.datetime | None = None) -> bool:
    """Make the delivery's due attempt (the job ``medbook.tasks.deliver_webhook``). Returns
    True when an attempt was made; False when the delivery is not due (done, or claimed by
    another job, or its next attempt lies ahead). Safe to run any number of times."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    if not due.update(next_attempt_at=now + LEASE):
        return False
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    number = delivery.attempts + 1
    if not delivery.subscription.active:
        code, elapsed, error = None, 0, "the subscription is switched off"
    else:
        code, elapsed, error = _post(delivery, number)
    ok = code is not None and 200 <= code < 300
    if code is not None and not ok:
        error = f"HTTP {code}"
    _record(delivery, now=now, code=code, elapsed=elapsed, error=error, ok=ok)
    return True


def _record(
    delivery: WebhookDelivery,
    *,
    now: dt.datetime,
    code: int | None,
    elapsed: int,
    error: str,
    ok: bool,
) -> None:
    with transaction.atomic():
        # Numbered on the locked row: a re-send racing this attempt gets the next number.
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        number = locked.attempts + 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=now,
            status_code=code,
            response_ms=elapsed,
            error=error,
            ok=ok,
            resent_by_id=locked.resent_by_id,
        )
        changes: dict = {
            "attempts": F("attempts") + 1,
            "last_status_code": code,
            "last_error": error,
            "resent_by": None,
        }
        if ok:
            changes |= {"status": DeliveryStatus.SUCCEEDED, "delivered_at": now}
            changes["next_attempt_at"] = None
        else:
            wait = backoff(number)
            if not delivery.subscription.active or now + wait > locked.give_up_at:
                changes |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
                logger.warning(
                    "Webhook delivery %s gave up after %d attempts: %s", delivery.pk, number, error
                )
            else:
                changes["next_attempt_at"] = now + wait
                outbox.enqueue(DELIVER_TASK, delivery.pk, countdown=int(wait.total_seconds()))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)


def purge_old_events(*, now: dt.datetime) -> int:
    """Delete events older than ``MEDBOOK_WEBHOOK_KEEP_DAYS`` with their deliveries and
    attempts, unless one of their deliveries is still being sent. Returns how many events."""
    cutoff = now - dt.timedelta(days=settings.MEDBOOK_WEBHOOK_KEEP_DAYS)
    old = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(
        deliveries__status=DeliveryStatus.PENDING
    )
    ids = list(old.values_list("pk", flat=True)[:5000])
    _count, per_model = WebhookEvent.objects.filter(pk__in=ids).delete()
    return per_model.get(WebhookEvent._meta.label, 0)


def overdue_deliveries(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose attempt is overdue (their job was lost): the sweep sends them."""
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - OVERDUE
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
