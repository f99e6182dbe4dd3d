"""Reads of the waitlist (候补): a member's places with their position, the sessions they wait
for (the doctor page's buttons), and how many wait per session (the staff console)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from members.models import Member

from ..choices import WAITLIST_OPEN, WaitlistStatus
from ..models import Schedule, WaitlistEntry

CLOSED_SHOWN = 10
# What the member's list shows of each entry (the API names the session's doctor too).
MEMBER_LIST_RELATED = (
    "member__level",
    "patient",
    "doctor__department",
    "schedule__doctor__department",
    "offered_schedule__doctor__department",
)


@dataclass(frozen=True)
class WaitlistRow:
    """An open place as the member's list shows it: ``position`` 1 is next for a freed slot
    (None while an offer is held for them)."""

    entry: WaitlistEntry
    position: int | None

    @property
    def can_accept(self) -> bool:
        return self.entry.is_offered and self.entry.offer_expires_at > timezone.now()


def waiting_schedule_ids(*, member: Member | None) -> frozenset[int]:
    """The sessions ``member`` waits for, or holds an offer of (none for a visitor). One query."""
    if member is None:
        return frozenset()
    rows = WaitlistEntry.objects.filter(member=member, status__in=WAITLIST_OPEN).values_list(
        "schedule_id", "offered_schedule_id"
    )
    return frozenset(pk for row in rows for pk in row if pk is not None)


def _ahead_of(entry: WaitlistEntry) -> Q:
    """Waiting entries served before ``entry``: a higher level, or the same level and earlier."""
    level = entry.member.level.level
    return (
        Q(member__level__level__gt=level)
        | Q(member__level__level=level, joined_at__lt=entry.joined_at)
        | Q(member__level__level=level, joined_at=entry.joined_at, pk__lt=entry.pk)
    )


def _competing(entry: WaitlistEntry) -> Q:
    """Entries that wait for the same slots as ``entry``: its session's, and the doctor's
    "any session" entries whose days meet its days."""
    overlapping = Q(
        doctor_id=entry.doctor_id, date_from__lte=entry.date_to, date_to__gte=entry.date_from
    )
    if entry.schedule_id is not None:
        return Q(schedule_id=entry.schedule_id) | (Q(schedule__isnull=True) & overlapping)
    return overlapping


def position_of(entry: WaitlistEntry) -> int:
    """Where a waiting entry stands: 1 + the waiting entries served before it for its slots
    (for an "any session" entry, of any of its days: at most this many are ahead)."""
    ahead = WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).filter(
        _competing(entry), _ahead_of(entry)
    )
    return ahead.count() + 1


def waitlist_for_member(*, member: Member) -> tuple[list[WaitlistRow], list[WaitlistEntry]]:
    """``member``'s open places (offers first, then by day) with their position, and their
    latest closed ones. One query per open place (at most MEDBOOK_WAITLIST_MAX_ENTRIES) + 2."""
    mine = WaitlistEntry.objects.filter(member=member).select_related(*MEMBER_LIST_RELATED)
    rows = [
        WaitlistRow(entry=entry, position=None if entry.is_offered else position_of(entry))
        for entry in mine.filter(status__in=WAITLIST_OPEN)
    ]
    rows.sort(key=lambda row: (not row.entry.is_offered, row.entry.date_from, row.entry.pk))
    closed = list(
        mine.exclude(status__in=WAITLIST_OPEN).order_by("-closed_at", "-pk")[:CLOSED_SHOWN]
    )
    return rows, closed


def waitlist_row_of(*, member: Member, pk: int) -> WaitlistRow | None:
    """``member``'s own entry ``pk`` as their list shows it, with its position while it waits
    (None for another member's). Two queries (one when not waiting)."""
    entry = (
        WaitlistEntry.objects.filter(member=member, pk=pk)
        .select_related(*MEMBER_LIST_RELATED)
        .first()
    )
    if entry is None:
        return None
    waiting = entry.status == WaitlistStatus.WAITING
    return WaitlistRow(entry=entry, position=position_of(entry) if waiting else None)


def waitlist_entry_of(*, member: Member, pk: int) -> WaitlistEntry | None:
    """``member``'s own entry ``pk`` (None for another member's: their ids tell nothing)."""
    return (
        WaitlistEntry.objects.filter(member=member, pk=pk)
        .select_related("patient", "offered_schedule")
        .first()
    )


def waiting_counts(*, schedules: Iterable[Schedule]) -> dict[int, int]:
    """How many wait for each of ``schedules`` (entries for that very session). One query."""
    ids = [schedule.pk for schedule in schedules]
    if not ids:
        return {}
    rows = (
        WaitlistEntry.objects.filter(schedule_id__in=ids, status=WaitlistStatus.WAITING)
        .values("schedule_id")
        .annotate(n=Count("pk"))
    )
    return {row["schedule_id"]: row["n"] for row in rows}


def schedules_with_offer_drift() -> QuerySet[Schedule]:
    """Sessions whose count of slots held for the waitlist differs from their open offers
    (should be none)."""
    return (
        Schedule.objects.annotate(
            open_offers=Count(
                "waitlist_offers", filter=Q(waitlist_offers__status=WaitlistStatus.OFFERED)
            )
        )
        .exclude(offered=F("open_offers"))
        .order_by("pk")
    )
