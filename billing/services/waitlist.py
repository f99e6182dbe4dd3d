"""The waitlist's offer taken up (候补): the held slot booked, with the order that holds it
until paid, as any booking."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from appointments.choices import Channel
from appointments.models import Appointment, WaitlistEntry
from members.models import Member

from .orders import _place_booking

__all__ = ["accept_offer"]


def accept_offer(
    *,
    member: Member,
    entry: WaitlistEntry,
    now: dt.datetime | None = None,
    channel: Channel = Channel.WEB,
) -> Appointment:
    """Book the slot held for ``member``'s offered waitlist ``entry`` (looked up by the caller,
    scoped to the member) for its patient.

    It becomes a booking like any other: confirmed at once for a free session, else an unpaid
    hold with its order, paid within ``MEDBOOK_HOLD_MINUTES`` on the cashier; a hold that runs
    out unpaid frees the slot, which then goes to the next member waiting. Raises
    :class:`~appointments.exceptions.OfferGone` (and books nothing) when the offer ran out or
    passed on meanwhile, or the booking rules' refusal (a ban, the level's cap).
    """
    now = now or timezone.now()
    return _place_booking(
        member=member,
        schedule=entry.offered_schedule,
        channel=channel,
        now=now,
        by=None,
        override_reason="",
        walk_in=False,
        patient=entry.patient,
        offer=entry,
    )
