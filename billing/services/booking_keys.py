"""Bookings an app makes with an ``Idempotency-Key`` (POST /api/v1/appointments/): the same key
from the same member books at most once, and every request with it gets the first answer.

The key is written first in the booking's own transaction (a unique (member, key) row): a second
request with the key, even at the same moment in another process, waits on that row until the
first commits, then replays the answer stored with it; if the first was refused (rolled back,
no key written), the second books as if it were first. A key sent again with a different
request is refused (422 ``idempotency_key_reused``). Keys are per member.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.choices import Channel
from appointments.models import Appointment, Schedule
from members.models import Member, Patient

from ..exceptions import IdempotencyKeyReused
from ..models import BookingKey
from .orders import place_booking

__all__ = [
    "KeyedAnswer",
    "place_booking_once",
    "purge_booking_keys",
    "replayed_booking",
    "request_fingerprint",
]

# How long a key replays its booking's answer; an app retries within minutes, not days.
KEYS_KEPT = dt.timedelta(days=7)


@dataclass(frozen=True)
class KeyedAnswer:
    """The answer to a keyed booking request: the HTTP status and body, and whether it is a
    replay of an earlier request's answer."""

    status: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A digest of what was asked (the validated request), to tell a retry from a key reused
    for something else."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replayed_booking(*, member: Member, key: str, fingerprint: str) -> KeyedAnswer | None:
    """What ``key`` answered before (None: never used, or its booking was refused). Raises
    IdempotencyKeyReused when the key was used for a different request."""
    found = (
        BookingKey.objects.filter(member=member, key=key)
        .values_list("fingerprint", "response_status", "response_body")
        .first()
    )
    if found is None:
        return None
    if found[0] != fingerprint:
        raise IdempotencyKeyReused()
    return KeyedAnswer(status=found[1], body=found[2], replayed=True)


def place_booking_once(
    *,
    member: Member,
    schedule: Schedule,
    key: str,
    fingerprint: str,
    answer: Callable[[Appointment], tuple[int, dict[str, Any]]],
    channel: Channel = Channel.API,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    slot: int | None = None,
) -> KeyedAnswer:
    """Book ``schedule`` for ``member`` once per ``key`` (:func:`orders.place_booking`'s rules
    and refusals), or replay what the key answered before. ``answer`` renders the response of a
    new booking; it runs inside the booking's transaction and is stored with the key."""
    now = now or timezone.now()
    earlier = replayed_booking(member=member, key=key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = BookingKey.objects.create(
                    member=member, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            row = None  # the key committed meanwhile (the other request waited for is done)
        if row is not None:
            appointment = place_booking(
                member=member,
                schedule=schedule,
                channel=channel,
                now=now,
                patient=patient,
                slot=slot,
            )
            status, body = answer(appointment)
            row.appointment = appointment
            row.response_status = status
            row.response_body = body
            row.save(update_fields=["appointment", "response_status", "response_body"])
            return KeyedAnswer(status=status, body=body, replayed=False)
    earlier = replayed_booking(member=member, key=key, fingerprint=fingerprint)
    if earlier is None:  # the key's row was there a moment ago and keys are never deleted
        raise IntegrityError("idempotency key vanished")
    return earlier


def purge_booking_keys(*, now: dt.datetime | None = None) -> int:
    """Delete idempotency keys older than ``KEYS_KEPT`` (the daily job): a request repeated
    after that books anew or is refused as already booked. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - KEYS_KEPT
    deleted, _ = BookingKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
