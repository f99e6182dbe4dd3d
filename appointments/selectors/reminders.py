"""Reads of release reminders (放号提醒): which sessions a member asked about, their list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from members.models import Member

from ..choices import ReminderStatus
from ..models import ReleaseReminder, Schedule
from .booking import opens_at_for

# Closed reminders (sent, cancelled, not sent) the member's list still shows.
CLOSED_SHOWN = 20


def reminded_schedule_ids(*, member: Member | None) -> frozenset[int]:
    """The sessions ``member`` has a waiting reminder for (none for a visitor). One query."""
    if member is None:
        return frozenset()
    return frozenset(
        ReleaseReminder.objects.filter(member=member, status=ReminderStatus.WAITING).values_list(
            "schedule_id", flat=True
        )
    )


@dataclass(frozen=True)
class ReminderRow:
    """A reminder as the member's list shows it, with when it goes out at their level now."""

    reminder: ReleaseReminder
    due_at: dt.datetime | None  # None once closed

    @property
    def schedule(self) -> Schedule:
        return self.reminder.schedule


def reminders_for_member(*, member: Member) -> tuple[list[ReminderRow], list[ReleaseReminder]]:
    """``member``'s waiting reminders (soonest due first, each with its time at the member's
    current level) and their latest closed ones. Two queries."""
    related = ("schedule__doctor__department",)
    mine = ReleaseReminder.objects.filter(member=member).select_related(*related)
    waiting: list[ReminderRow] = [
        ReminderRow(
            reminder=reminder,
            due_at=opens_at_for(schedule=reminder.schedule, level=member.level),
        )
        for reminder in mine.filter(status=ReminderStatus.WAITING)
    ]
    waiting.sort(key=lambda row: (row.due_at, row.reminder.pk))
    closed = list(
        mine.exclude(status=ReminderStatus.WAITING).order_by("-closed_at", "-pk")[:CLOSED_SHOWN]
    )
    return waiting, closed


def reminder_of(*, member: Member, pk: int) -> ReleaseReminder | None:
    """``member``'s own reminder ``pk`` (None for another member's: their ids tell nothing)."""
    return ReleaseReminder.objects.filter(member=member, pk=pk).first()


def reminder_row_of(*, member: Member, pk: int) -> ReminderRow | None:
    """``member``'s own reminder ``pk`` as their list shows it, with when it goes out while it
    waits (None for another member's). One query."""
    reminder = (
        ReleaseReminder.objects.filter(member=member, pk=pk)
        .select_related("schedule__doctor__department")
        .first()
    )
    if reminder is None:
        return None
    due_at = None
    if reminder.status == ReminderStatus.WAITING:
        due_at = opens_at_for(schedule=reminder.schedule, level=member.level)
    return ReminderRow(reminder=reminder, due_at=due_at)
