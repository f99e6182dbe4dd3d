"""A session's free slots outside PostgreSQL: the cached "sold out" hint and the release gate's
stock, set and cleared by the services that move slots (booking, cancelling, the waitlist)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from .. import gate
from ..choices import AppointmentStatus, WaitlistStatus
from ..models import Schedule, WaitlistEntry


def sold_out_key(schedule_id: int) -> str:
    return f"schedule:{schedule_id}:sold_out"


def clear_sold_out(schedule_id: int, marks: tuple[str, ...] = ()) -> None:
    """A slot came back (or the capacity or status changed): the hint goes and the release
    gate forgets its stock, which the next attempt rebuilds from the database, and the
    ``marks`` (:func:`gate.mark_of`) of the attempts that made the appointment."""
    cache.delete(sold_out_key(schedule_id))
    gate.forget(schedule_id=schedule_id, marks=marks)


def mark_sold_out(schedule: Schedule, now: dt.datetime) -> None:
    """Set the hint (schedule locked and full); it lives no longer than the earliest unpaid hold
    or waitlist offer of the session, whose slot may be free again the moment it runs out."""
    seconds = settings.MEDBOOK_SOLD_OUT_CACHE_SECONDS
    earliest = schedule.appointments.filter(status=AppointmentStatus.PENDING_PAYMENT).aggregate(
        earliest=Min("created_at")
    )["earliest"]
    ends = []
    if earliest is not None:
        ends.append(earliest + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES))
    if schedule.offered:
        offer_ends = WaitlistEntry.objects.filter(
            offered_schedule=schedule, status=WaitlistStatus.OFFERED
        ).aggregate(ends=Min("offer_expires_at"))["ends"]
        if offer_ends is not None:
            ends.append(offer_ends)
    if ends:
        # The cache counts real seconds (``now`` may be a clock a test or a job set).
        seconds = min(seconds, int((min(ends) - max(now, timezone.now())).total_seconds()))
    if seconds > 0:
        cache.set(sold_out_key(schedule.pk), True, seconds)
