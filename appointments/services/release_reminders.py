"""Release reminders (放号提醒): "remind me when it opens" on a session not yet open to the member.

A reminder is due at the member's own opening time: the public release minus the lead hours
of the level the member has *when the job looks* (a member who moved up a level after setting
it is reminded at the new, earlier time; one who moved down, at the later one), so the message
never says "open" before the member may book. The job runs every minute; each due reminder is
claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and closed in the same transaction that writes
its message and the message's delivery (the outbox): two runs at once send it exactly once,
and a crash before the commit leaves it waiting for the next run. A session cancelled (停诊)
or ended meanwhile closes the reminder unsent; the member's list says so, no message is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from members.models import Member, MemberLevel

from .. import exceptions as errors
from .. import notices
from ..choices import ReminderStatus, ScheduleStatus
from ..models import ReleaseReminder, Schedule
from ..selectors.booking import opens_at_for

__all__ = [
    "MAX_WAITING_REMINDERS",
    "cancel_release_reminder",
    "send_release_reminders",
    "set_release_reminder",
]

# Waiting reminders a member may hold at once (a bound on what one account can make us send).
MAX_WAITING_REMINDERS = 20


def _refusal(
    *, schedule: Schedule, member: Member, now: dt.datetime
) -> errors.AppointmentError | None:
    """Why ``member`` cannot ask to be reminded of ``schedule`` at ``now`` (None: they can)."""
    if schedule.status == ScheduleStatus.SUSPENDED:
        return errors.ScheduleSuspended()
    if schedule.status == ScheduleStatus.FINISHED or now >= schedule.starts_at:
        return errors.ScheduleInPast()
    if schedule.status != ScheduleStatus.PUBLISHED:
        return errors.ScheduleUnavailable()
    if now >= opens_at_for(schedule=schedule, level=member.level):
        return errors.AlreadyOpen()
    return None


@transaction.atomic
def set_release_reminder(
    *, member: Member, schedule: Schedule, now: dt.datetime | None = None
) -> ReleaseReminder:
    """Remind ``member`` when ``schedule`` opens to them. Setting it twice (a double tap) gives
    back the waiting reminder; a session already open, cancelled or past is refused, and so is
    a reminder past the member's :data:`MAX_WAITING_REMINDERS`."""
    now = now or timezone.now()
    # The member's row serialises their own requests, so the limit holds under double taps.
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("level").get(pk=member.pk)
    )
    refusal = _refusal(schedule=schedule, member=member, now=now)
    if refusal is not None:
        raise refusal
    waiting = ReleaseReminder.objects.filter(member=member, status=ReminderStatus.WAITING)
    existing = waiting.filter(schedule=schedule).first()
    if existing is not None:
        return existing
    if waiting.count() >= MAX_WAITING_REMINDERS:
        raise errors.TooManyReminders(MAX_WAITING_REMINDERS)
    try:
        with transaction.atomic():
            return ReleaseReminder.objects.create(member=member, schedule=schedule, created_at=now)
    except IntegrityError:  # releasereminder_one_waiting: set meanwhile, by the same member
        return waiting.get(schedule=schedule)


@transaction.atomic
def cancel_release_reminder(
    *, reminder: ReleaseReminder, now: dt.datetime | None = None
) -> ReleaseReminder:
    """The member no longer wants ``reminder`` (their own, looked up by the caller). Cancelling
    twice changes nothing; a reminder already sent or closed is refused."""
    now = now or timezone.now()
    locked = ReleaseReminder.objects.select_for_update().get(pk=reminder.pk)
    if locked.status == ReminderStatus.CANCELLED:
        return locked
    if locked.status != ReminderStatus.WAITING:
        raise errors.ReminderClosed(locked.get_status_display())
    locked.status = ReminderStatus.CANCELLED
    locked.closed_at = now
    locked.save(update_fields=["status", "closed_at"])
    return locked


def _due(now: dt.datetime) -> Q:
    """Waiting reminders the job must settle at ``now``: due at their member's current level's
    opening time (one condition per level: a handful of rows), or whose session was cancelled
    or has ended (closed unsent at once)."""
    due = Q(pk__in=[])
    for level_id, hours in MemberLevel.objects.values_list("pk", "booking_lead_hours"):
        due |= Q(
            member__level_id=level_id,
            schedule__release_at__lte=now + dt.timedelta(hours=hours),
        ) & ~Q(schedule__status=ScheduleStatus.DRAFT)
    closed = Q(schedule__status__in=[ScheduleStatus.SUSPENDED, ScheduleStatus.FINISHED]) | Q(
        schedule__date__lt=timezone.localdate(now)
    )
    return due | closed


def _due_ids(now: dt.datetime, batch: int) -> Iterator[int]:
    """Ids of the reminders to settle at ``now``, in batches by id (a reminder another run is
    settling is skipped, never waited for, and not looked at twice)."""
    due = ReleaseReminder.objects.filter(_due(now), status=ReminderStatus.WAITING)
    last = 0
    while ids := list(due.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]):
        yield from ids
        last = ids[-1]


def _close(reminder: ReleaseReminder, status: ReminderStatus, now: dt.datetime) -> None:
    reminder.status = status
    reminder.closed_at = now
    reminder.save(update_fields=["status", "closed_at", "message"])


def _settle(pk: int, now: dt.datetime) -> bool:
    """Send reminder ``pk`` if it is due, or close it unsent; True when a message went out."""
    with transaction.atomic():
        reminder = (
            ReleaseReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("member__level", "schedule__doctor__department")
            .filter(pk=pk, status=ReminderStatus.WAITING)
            .first()
        )
        if reminder is None:  # another run holds it, or has settled it
            return False
        schedule = reminder.schedule
        if schedule.status == ScheduleStatus.SUSPENDED:
            _close(reminder, ReminderStatus.SESSION_CANCELLED, now)
            return False
        if schedule.status == ScheduleStatus.FINISHED or now >= schedule.starts_at:
            _close(reminder, ReminderStatus.EXPIRED, now)
            return False
        opens_at = opens_at_for(schedule=schedule, level=reminder.member.level)
        if schedule.status != ScheduleStatus.PUBLISHED or now < opens_at:
            return False  # not open to them yet (a draft; a level lowered since the look-up)
        reminder.message = notices.release_opened(reminder=reminder, opens_at=opens_at, now=now)
        _close(reminder, ReminderStatus.SENT, now)
        return True


def send_release_reminders(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Send the release reminders due at ``now`` and close those whose session was cancelled
    or has passed (the every-minute job). Safe to run twice, and in several workers at once.
    Returns how many messages it sent."""
    now = now or timezone.now()
    return sum(_settle(pk, now) for pk in _due_ids(now, batch))
