"""The no-shows and cancellations dashboard (爽约与取消): rates from the booking rollup, and the
members paused for no-shows from the members app.

The no-show rate is no-shows ÷ the visits that were due: appointments that held a slot (not
cancelled) in sessions of the days before today (the clinic's date), whose no-shows have been
swept; today's and future sessions count in neither. The cancellation rate is cancelled ÷
every appointment made (kept or cancelled), whatever the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.utils import timezone

from medbook.i18n import local_name
from members.selectors import NoShowPause, no_show_pauses

from ..choices import Canceller, LeadTime
from ..models import RollupState
from .bookings import (
    DEPARTMENT,
    DOCTOR,
    BookingFilters,
    booking_rows,
    day_rows,
    department_rows,
    percent,
)

# Who cancelled -> the rollup column that counts them.
CANCELLERS = {
    Canceller.MEMBER: "cancelled_by_member",
    Canceller.STAFF: "cancelled_by_staff",
    Canceller.HOLD_EXPIRED: "cancelled_hold_expired",
    Canceller.SUSPENDED: "cancelled_suspended",
}


@dataclass
class NoShowFigures:
    """The bookings of one slice (a day, a department, a doctor …): ``booked`` held a slot,
    ``cancelled``; ``due`` held a slot in a past session, ``no_show`` of those were missed;
    the cancellations by who cancelled (``by``: Canceller -> count)."""

    booked: int = 0
    cancelled: int = 0
    due: int = 0
    no_show: int = 0
    by: dict[int, int] = field(default_factory=dict)

    @property
    def made(self) -> int:
        return self.booked + self.cancelled

    @property
    def no_show_rate(self):
        return percent(self.no_show, self.due)

    @property
    def cancel_rate(self):
        return percent(self.cancelled, self.made)


@dataclass
class RateRow:
    key: object
    label: str
    figures: NoShowFigures


@dataclass
class NoShowsDashboard:
    filters: BookingFilters
    previous_filters: BookingFilters
    today: dt.date
    totals: NoShowFigures
    previous: NoShowFigures
    by_day: list[RateRow]
    by_department: list[RateRow]
    by_doctor: list[RateRow]
    by_level: list[RateRow]
    by_lead_time: list[RateRow]
    by_canceller: list[tuple[str, int]]
    pauses: list[NoShowPause]
    previous_pauses: int
    pauses_by_day: list[tuple[dt.date, int]]
    refreshed_at: dt.datetime | None


def _sums(today: dt.date) -> dict:
    """The sums of a slice, named ``n_<figure>`` (an alias may not shadow the column it sums)."""
    past = Q(date__lt=today)
    return {
        "n_booked": Sum("booked"),
        "n_cancelled": Sum("cancelled"),
        "n_due": Sum("booked", filter=past),
        "n_no_show": Sum("no_show", filter=past),
        **{f"n_{column}": Sum(column) for column in CANCELLERS.values()},
    }


def _figures(values: dict) -> NoShowFigures:
    return NoShowFigures(
        booked=values["n_booked"] or 0,
        cancelled=values["n_cancelled"] or 0,
        due=values["n_due"] or 0,
        no_show=values["n_no_show"] or 0,
        by={who: values[f"n_{column}"] or 0 for who, column in CANCELLERS.items()},
    )


def _grouped(
    filters: BookingFilters, today: dt.date, keys: list[str]
) -> dict[tuple, NoShowFigures]:
    query = booking_rows(filters).values(*keys).annotate(**_sums(today))
    return {tuple(values[key] for key in keys): _figures(values) for values in query}


def _totals(filters: BookingFilters, today: dt.date) -> NoShowFigures:
    return _figures(booking_rows(filters).aggregate(**_sums(today)))


def _window(filters: BookingFilters) -> tuple[dt.datetime, dt.datetime]:
    """The period's first and last day as moments: from midnight of the first day to
    midnight after the last, in the clinic's time zone."""
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(filters.start, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def noshows_dashboard(*, filters: BookingFilters, today: dt.date) -> NoShowsDashboard:
    """爽约与取消: the no-show and cancellation rates of the period and of the one before, by
    day, department, doctor, member level (when booked) and lead time; the cancellations by
    who cancelled; the members paused for no-shows (not narrowed by the filters: a pause is
    the member's, not a session's). Eight queries on the booking rollup, four for the pauses
    of the period and four for those of the one before."""
    by_day = day_rows(filters, _grouped(filters, today, ["date"]), RateRow, NoShowFigures)
    by_department = department_rows(_grouped(filters, today, DEPARTMENT), RateRow)
    doctors = _grouped(filters, today, DOCTOR)
    by_doctor = sorted(
        (
            RateRow(key=pk, label=local_name(name, name_en), figures=f)
            for (pk, name, name_en), f in doctors.items()
        ),
        key=lambda row: (-row.figures.made, row.label),
    )
    levels = _grouped(filters, today, ["level", "level__name", "level__level", "level__name_en"])
    by_level = [
        RateRow(key=pk, label=local_name(name, name_en), figures=figures)
        for (pk, name, _rank, name_en), figures in sorted(
            levels.items(), key=lambda item: item[0][2]
        )
    ]
    leads = _grouped(filters, today, ["lead_time"])
    by_lead_time = [
        RateRow(key=value, label=str(label), figures=leads[(value,)])
        for value, label in LeadTime.choices
        if (value,) in leads
    ]
    totals = _totals(filters, today)
    by_canceller = [(str(Canceller(who).label), totals.by[who]) for who in CANCELLERS]

    start, end = _window(filters)
    pauses = no_show_pauses(start=start, end=end)
    started: dict[dt.date, int] = {}
    for pause in pauses:
        local = timezone.localdate(pause.started_at)
        if filters.start <= local <= filters.end:
            started[local] = started.get(local, 0) + 1
    pauses_by_day = [(row.key, started.get(row.key, 0)) for row in by_day]
    previous_filters = filters.previous()
    previous_start, previous_end = _window(previous_filters)
    state = RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return NoShowsDashboard(
        filters=filters,
        previous_filters=previous_filters,
        today=today,
        totals=totals,
        previous=_totals(previous_filters, today),
        by_day=by_day,
        by_department=by_department,
        by_doctor=by_doctor,
        by_level=by_level,
        by_lead_time=by_lead_time,
        by_canceller=by_canceller,
        pauses=pauses,
        previous_pauses=len(no_show_pauses(start=previous_start, end=previous_end)),
        pauses_by_day=pauses_by_day,
        refreshed_at=state,
    )
