"""The date strip (按日期挂号): a department's sessions of the next days, by date, across all its
doctors, with what the viewer can do with each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Value, When
from django.utils import timezone

from members.models import Member

from ..choices import DoctorTitle, ScheduleStatus
from ..models import Department, Schedule
from .booking import Availability, member_bookings, schedule_availability

STRIP_DAYS = 14
# Senior doctors first within a time, as the catalogue lists them.
DOCTOR_SENIORITY = Case(
    *(When(doctor__title=title, then=Value(rank)) for rank, title in enumerate(DoctorTitle.values)),
    default=Value(len(DoctorTitle.values)),
)


@dataclass(frozen=True)
class StripDay:
    """One date of the strip: how its sessions stand for the viewer."""

    date: dt.date
    sessions: int  # sessions of the department's doctors that day, cancelled ones aside
    bookable: int  # open to the viewer now with a slot free ("有号")
    not_open: int  # not yet open to the viewer (未放号)

    @property
    def has_slots(self) -> bool:
        return self.bookable > 0

    @property
    def only_not_open(self) -> bool:
        """No slot now, but sessions still to open."""
        return not self.bookable and self.not_open > 0

    @property
    def is_full(self) -> bool:
        """Sessions that day, none with a slot for the viewer, none still to open."""
        return self.sessions > 0 and not self.bookable and not self.not_open


@dataclass(frozen=True)
class DateStrip:
    department: Department
    days: list[StripDay]
    selected: dt.date
    # The selected day's sessions (soonest first, senior doctors first), with availability.
    rows: list[tuple[Schedule, Availability]]


def strip_dates(*, now: dt.datetime, days: int = STRIP_DAYS) -> list[dt.date]:
    """The strip's dates: the clinic's today and the ``days - 1`` after it."""
    today = timezone.localdate(now)
    return [today + dt.timedelta(days=offset) for offset in range(days)]


def department_date_strip(
    *,
    department: Department,
    now: dt.datetime,
    member: Member | None,
    selected: dt.date | None = None,
    days: int = STRIP_DAYS,
) -> DateStrip:
    """The strip of ``department`` for ``member`` (the public without one) at ``now``, with the
    sessions of ``selected`` (by default the first date with a free slot, else today).

    A fixed number of queries whatever the number of doctors or sessions: the sessions of the
    whole window in one, the member's bookings in one more."""
    dates = strip_dates(now=now, days=days)
    schedules = list(
        Schedule.objects.exclude(status=ScheduleStatus.DRAFT)
        .filter(
            doctor__department=department,
            doctor__is_active=True,
            date__gte=dates[0],
            date__lte=dates[-1],
        )
        .select_related("doctor__department")
        .order_by("date", "start_time", DOCTOR_SENIORITY, "doctor__name")
    )
    bookings = member_bookings(member=member, now=now) if member else None
    rows = [
        (
            schedule,
            schedule_availability(schedule=schedule, member=member, now=now, bookings=bookings),
        )
        for schedule in schedules
    ]
    strip = []
    for day in dates:
        of_day = [
            availability
            for schedule, availability in rows
            if schedule.date == day and not availability.is_suspended
        ]
        strip.append(
            StripDay(
                date=day,
                sessions=len(of_day),
                bookable=sum(1 for a in of_day if a.is_bookable),
                not_open=sum(1 for a in of_day if a.is_not_open),
            )
        )
    if selected is None:
        selected = next((day.date for day in strip if day.has_slots), dates[0])
    return DateStrip(
        department=department,
        days=strip,
        selected=selected,
        rows=[row for row in rows if row[0].date == selected],
    )
