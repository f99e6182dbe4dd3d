"""Booking attempts through the API count on the same shared counters as the booking page's
(scopes ``book-member`` and ``book-ip``, MEDBOOK_BOOKING_RATE_*): an app books no faster than
the website lets a member."""

from __future__ import annotations

from typing import Any

from medbook.api.throttles import PerAddressThrottle, PerLoginThrottle


class BookingPerMemberThrottle(PerLoginThrottle):
    scope = "book-member"
    setting = "MEDBOOK_BOOKING_RATE_MEMBER"

    def who(self, request: Any) -> str | None:
        member = getattr(request, "member", None)  # put there by IsMember
        return str(member.pk) if member is not None else None


class BookingPerAddressThrottle(PerAddressThrottle):
    scope = "book-ip"
    setting = "MEDBOOK_BOOKING_RATE_IP"
