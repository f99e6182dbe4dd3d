"""Reads of the reports: the dashboards' figures, from the rollups only (reports.models).

Each breakdown is one ``GROUP BY`` on each rollup table (capacity from the sessions' table,
outcomes from the bookings' table), merged here; the raw tables are never read by a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet, Sum

from appointments.choices import Session
from appointments.models import Department, Doctor
from medbook.i18n import local_name
from members.models import MemberLevel

from ..models import DailyBookingStat, DailySessionStat, RollupState

OUTCOMES = ("booked", "cancelled", "no_show", "checked_in", "completed")


@dataclass(frozen=True)
class BookingFilters:
    """What the bookings dashboard shows: the clinic days ``start``..``end`` and, optionally,
    one department, doctor, member level and channel. Level and channel narrow the bookings
    only: the capacity is the sessions' slots, whoever booked them."""

    start: dt.date
    end: dt.date
    department: Department | None = None
    doctor: Doctor | None = None
    level: MemberLevel | None = None
    channel: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> BookingFilters:
        """The same filters over the period of the same length just before."""
        end = self.start - dt.timedelta(days=1)
        return BookingFilters(
            start=end - dt.timedelta(days=self.days - 1),
            end=end,
            department=self.department,
            doctor=self.doctor,
            level=self.level,
            channel=self.channel,
        )


# What a breakdown by department groups by: its id, name, place in the clinic's list and
# English name; by doctor: id, name and English name (the label is the reader's: local_name).
DEPARTMENT = ["department", "department__name", "department__sort_order", "department__name_en"]
DOCTOR = ["doctor", "doctor__name", "doctor__name_en"]


def day_rows(filters: BookingFilters, found: dict, row: type, empty: Callable[[], object]) -> list:
    """One ``row`` per day of the period (``empty()`` figures for a day with none), from figures
    grouped by ``date``."""
    rows = []
    day = filters.start
    while day <= filters.end:
        figures = found.get((day,))
        rows.append(row(key=day, label=day.isoformat(), figures=figures or empty()))
        day += dt.timedelta(days=1)
    return rows


def department_rows(found: dict, row: type) -> list:
    """One ``row`` per department, in the clinic's order, from figures grouped by DEPARTMENT."""
    return [
        row(key=pk, label=local_name(name, name_en), figures=figures)
        for (pk, name, _order, name_en), figures in sorted(
            found.items(), key=lambda item: (item[0][2], item[0][1])
        )
    ]


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """Capacity and outcomes of one slice (a day, a department, a doctor …)."""

    sessions: int = 0
    capacity: int = 0
    booked: int = 0
    cancelled: int = 0
    no_show: int = 0
    checked_in: int = 0
    completed: int = 0

    @property
    def utilisation(self) -> Decimal | None:
        """Booked slots as a percentage of the slots offered (号源利用率)."""
        return percent(self.booked, self.capacity)

    @property
    def cancel_rate(self) -> Decimal | None:
        """Cancelled as a percentage of every booking made (kept or cancelled)."""
        return percent(self.cancelled, self.booked + self.cancelled)

    @property
    def no_show_rate(self) -> Decimal | None:
        """No-shows as a percentage of the booked slots."""
        return percent(self.no_show, self.booked)

    def add(self, values: dict) -> None:
        for name in ("sessions", "capacity", *OUTCOMES):
            if name in values:
                setattr(self, name, getattr(self, name) + (values[name] or 0))


@dataclass(frozen=True)
class Change:
    """A figure now, in the previous period, and the change: for percentages the difference in
    points, for counts the difference and the relative change in percent."""

    name: str
    label: str
    current: Decimal | int | None
    previous: Decimal | int | None
    is_percent: bool = False
    # A rise is bad news (no-shows, cancellations): the page colours it as such.
    lower_is_better: bool = False
    # An amount of money (Decimal, yuan): the page shows it with two decimals.
    is_money: bool = False

    @property
    def tone(self) -> str:
        """``good``, ``bad`` or ``""`` (no change, or none to tell)."""
        if not self.delta:
            return ""
        return "good" if (self.delta > 0) != self.lower_is_better else "bad"

    @property
    def delta(self) -> Decimal | int | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def relative(self) -> Decimal | None:
        if self.is_percent or self.delta is None:
            return None
        return percent(self.delta, self.previous)


@dataclass
class Row:
    key: object
    label: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class BookingsDashboard:
    filters: BookingFilters
    previous_filters: BookingFilters
    totals: Figures
    previous: Figures
    by_day: list[Row]
    by_department: list[Row]
    by_doctor: list[Row]
    by_session: list[Row]
    # weekday (0 = Monday) -> start hour -> figures, for the hours that have sessions
    heat_hours: list[int]
    heat: dict[int, dict[int, Figures]]
    refreshed_at: dt.datetime | None


def _sessions(filters: BookingFilters) -> QuerySet[DailySessionStat]:
    rows = DailySessionStat.objects.filter(date__range=(filters.start, filters.end))
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(doctor=filters.doctor)
    return rows.order_by()


def booking_rows(filters: BookingFilters) -> QuerySet[DailyBookingStat]:
    rows = DailyBookingStat.objects.filter(date__range=(filters.start, filters.end))
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(doctor=filters.doctor)
    if filters.level is not None:
        rows = rows.filter(level=filters.level)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    return rows.order_by()


def _grouped(filters: BookingFilters, keys: Iterable[str]) -> dict[tuple, Figures]:
    """Capacity and outcomes grouped by ``keys``: one GROUP BY on each rollup table."""
    keys = list(keys)
    found: dict[tuple, Figures] = {}
    capacity = (
        _sessions(filters)
        .values(*keys)
        .annotate(sessions=Sum("sessions"), capacity=Sum("capacity"))
    )
    outcomes = (
        booking_rows(filters).values(*keys).annotate(**{name: Sum(name) for name in OUTCOMES})
    )
    for query in (capacity, outcomes):
        for values in query:
            found.setdefault(tuple(values[key] for key in keys), Figures()).add(values)
    return found


def _totals(filters: BookingFilters) -> Figures:
    """Capacity and outcomes of the whole period: one aggregate on each rollup table."""
    total = Figures()
    total.add(_sessions(filters).aggregate(sessions=Sum("sessions"), capacity=Sum("capacity")))
    total.add(booking_rows(filters).aggregate(**{name: Sum(name) for name in OUTCOMES}))
    return total


def bookings_dashboard(*, filters: BookingFilters) -> BookingsDashboard:
    """The bookings and utilisation dashboard (预约与号源利用率): totals of the period and of
    the one before it, and the figures by day, department, doctor, session and weekday × hour.
    Thirteen small queries on the rollups, whatever the range."""
    by_date = _grouped(filters, ["date"])
    by_day = []
    day = filters.start
    totals = Figures()
    while day <= filters.end:
        row = Row(key=day, label=day.isoformat(), figures=by_date.get((day,), Figures()))
        totals.add(vars(row.figures))
        by_day.append(row)
        day += dt.timedelta(days=1)

    by_department = department_rows(_grouped(filters, DEPARTMENT), Row)

    by_doc = _grouped(filters, DOCTOR)
    by_doctor = sorted(
        (
            Row(key=pk, label=local_name(name, name_en), figures=figures)
            for (pk, name, name_en), figures in by_doc.items()
        ),
        key=lambda row: (-row.figures.booked, -row.figures.capacity, row.label),
    )

    by_sess = _grouped(filters, ["session"])
    by_session = [
        Row(key=value, label=str(label), figures=by_sess[(value,)])
        for value, label in Session.choices
        if (value,) in by_sess
    ]

    cells = _grouped(filters, ["weekday", "start_hour"])
    heat_hours = sorted({hour for (_weekday, hour) in cells})
    heat = {
        weekday: {hour: cells.get((weekday, hour), Figures()) for hour in heat_hours}
        for weekday in range(7)
    }
    state = RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    previous_filters = filters.previous()
    return BookingsDashboard(
        filters=filters,
        previous_filters=previous_filters,
        totals=totals,
        previous=_totals(previous_filters),
        by_day=by_day,
        by_department=by_department,
        by_doctor=by_doctor,
        by_session=by_session,
        heat_hours=heat_hours,
        heat=heat,
        refreshed_at=state,
    )


PERCENTAGES = {"utilisation", "cancel_rate", "no_show_rate"}


def changes(
    dashboard: BookingsDashboard,
    labels: dict[str, str],
    *,
    lower_is_better: frozenset = frozenset(),
    money: frozenset = frozenset(),
) -> list[Change]:
    """The headline figures with their change from the previous period, labelled by ``labels``
    (figure name -> label in the page's language); a rise of those named in ``lower_is_better``
    is bad news; those named in ``money`` are amounts."""
    return [
        Change(
            name=name,
            label=label,
            current=getattr(dashboard.totals, name),
            previous=getattr(dashboard.previous, name),
            is_percent=name in PERCENTAGES,
            lower_is_better=name in lower_is_better,
            is_money=name in money,
        )
        for name, label in labels.items()
    ]
