"""Raw rows for the reports' tests: sessions and appointments written as they stand in the
tables at the end of a day (statuses, times), and level changes with the time the member's
history records them. The rollups read only these tables, so the tests build them directly."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from appointments.choices import AppointmentStatus, ScheduleStatus, Session
from appointments.models import Appointment, Schedule
from members.models import Member, MemberLevel

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers: dict[int, int] = defaultdict(int)


def session(
    doctor,
    day: dt.date,
    start: dt.time,
    *,
    capacity: int = 4,
    suspended: bool = False,
) -> Schedule:
    end = (dt.datetime.combine(day, start) + dt.timedelta(hours=3)).time()
    return Schedule.objects.create(
        doctor=doctor,
        date=day,
        session=Session.MORNING if start.hour < 12 else Session.AFTERNOON,
        start_time=start,
        end_time=end,
        capacity=capacity,
        fee=Decimal("50.00"),
        status=ScheduleStatus.SUSPENDED if suspended else ScheduleStatus.FINISHED,
        release_at=dt.datetime.combine(day - dt.timedelta(days=7), dt.time(8), tzinfo=SHANGHAI),
    )


def visit(
    schedule: Schedule,
    member: Member,
    status: str,
    *,
    channel: str = "web",
    booked_at: dt.datetime,
    cancelled_by=None,
    cancel_reason: str = "",
) -> Appointment:
    """An appointment of ``member`` in ``schedule`` made at ``booked_at``, now ``status``;
    a cancelled one by ``cancelled_by`` (a user; None: MedBook itself) for ``cancel_reason``."""
    _numbers[schedule.pk] += 1
    number = _numbers[schedule.pk]
    starts = dt.datetime.combine(schedule.date, schedule.start_time, tzinfo=SHANGHAI)
    arrived = status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
    return Appointment.objects.create(
        member=member,
        schedule=schedule,
        queue_number=number,
        estimated_time=schedule.start_time,
        status=status,
        channel=channel,
        fee=schedule.fee,
        created_at=booked_at,
        checked_in_at=starts if arrived else None,
        completed_at=starts if status == AppointmentStatus.COMPLETED else None,
        cancelled_at=booked_at if status == AppointmentStatus.CANCELLED else None,
        no_show_at=starts if status == AppointmentStatus.NO_SHOW else None,
        cancelled_by=cancelled_by,
        cancel_reason=cancel_reason,
    )


def joined(member: Member, at: dt.datetime) -> Member:
    """Date the member's history rows (written when the factory saved them) at ``at``."""
    Member.history.filter(id=member.pk).update(history_date=at)
    return member


def change_level(member: Member, level: MemberLevel, at: dt.datetime) -> None:
    """The member's level changes at ``at``, recorded in their history as a save does."""
    member.level = level
    member._history_date = at
    member.save(update_fields=["level"])
