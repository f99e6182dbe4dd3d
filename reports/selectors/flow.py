"""The waiting and flow dashboard (候诊与接诊): from the flow rollup (DailyFlowStat), the
average wait from check-in to call, the average visit (call to completion), and the visits a
doctor completes per hour: completed visits ÷ doctor-hours (an hour of the clinic's clock in
which a doctor completed at least one visit), by day, department, doctor and hour of the day.

The period is the sessions' days. Level and channel do not apply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum

from medbook.i18n import local_name

from ..models import DailyFlowStat, RollupState
from .bookings import DEPARTMENT, DOCTOR, BookingFilters, day_rows, department_rows
from .releases import minutes

SUMS = ("arrived", "waited", "wait_us", "seen", "visit_us", "completed")


@dataclass
class FlowFigures:
    """The visits of one slice (a day, a department, a doctor, an hour of the day)."""

    arrived: int = 0
    waited: int = 0
    wait_us: int = 0
    seen: int = 0
    visit_us: int = 0
    completed: int = 0
    doctor_hours: int = 0

    @property
    def average_wait(self) -> Decimal | None:
        """Minutes from check-in to call, on average (patients called)."""
        return minutes(self.wait_us, self.waited)

    @property
    def average_visit(self) -> Decimal | None:
        """Minutes from call to completion, on average (visits with both times)."""
        return minutes(self.visit_us, self.seen)

    @property
    def per_hour(self) -> Decimal | None:
        """Visits completed per doctor-hour (one decimal)."""
        if not self.doctor_hours:
            return None
        return (Decimal(self.completed) / self.doctor_hours).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def add(self, values: dict) -> None:
        for name in (*SUMS, "doctor_hours"):
            setattr(self, name, getattr(self, name) + (values.get(f"n_{name}") or 0))


@dataclass
class FlowRow:
    key: object
    label: str
    figures: FlowFigures = field(default_factory=FlowFigures)


@dataclass
class FlowDashboard:
    filters: BookingFilters
    previous_filters: BookingFilters
    totals: FlowFigures
    previous: FlowFigures
    by_day: list[FlowRow]
    by_department: list[FlowRow]
    by_doctor: list[FlowRow]
    by_hour: list[FlowRow]
    refreshed_at: dt.datetime | None


def flow_rows(filters: BookingFilters) -> QuerySet[DailyFlowStat]:
    rows = DailyFlowStat.objects.filter(date__range=(filters.start, filters.end))
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(doctor=filters.doctor)
    return rows.order_by()


def _sums() -> dict:
    """A row of the rollup is one doctor, day and hour: those with a completed visit are the
    doctor-hours worked."""
    return {
        **{f"n_{name}": Sum(name) for name in SUMS},
        "n_doctor_hours": Count("id", filter=Q(completed__gt=0)),
    }


def _grouped(filters: BookingFilters, keys: list[str]) -> dict[tuple, FlowFigures]:
    found: dict[tuple, FlowFigures] = {}
    for values in flow_rows(filters).values(*keys).annotate(**_sums()):
        found.setdefault(tuple(values[key] for key in keys), FlowFigures()).add(values)
    return found


def _totals(filters: BookingFilters) -> FlowFigures:
    totals = FlowFigures()
    totals.add(flow_rows(filters).aggregate(**_sums()))
    return totals


def flow_dashboard(*, filters: BookingFilters) -> FlowDashboard:
    """候诊与接诊: the period's and the previous period's totals, and the figures by day,
    department, doctor and hour of the day. Six small queries on the flow rollup."""
    by_day = day_rows(filters, _grouped(filters, ["date"]), FlowRow, FlowFigures)
    by_department = department_rows(_grouped(filters, DEPARTMENT), FlowRow)
    doctors = _grouped(filters, DOCTOR)
    by_doctor = sorted(
        (
            FlowRow(key=pk, label=local_name(name, name_en), figures=f)
            for (pk, name, name_en), f in doctors.items()
        ),
        key=lambda row: (-row.figures.completed, row.label),
    )
    hours = _grouped(filters, ["hour"])
    by_hour = [
        FlowRow(key=hour, label=f"{hour:02d}:00", figures=hours[(hour,)])
        for (hour,) in sorted(hours)
    ]
    previous_filters = filters.previous()
    state = RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return FlowDashboard(
        filters=filters,
        previous_filters=previous_filters,
        totals=_totals(filters),
        previous=_totals(previous_filters),
        by_day=by_day,
        by_department=by_department,
        by_doctor=by_doctor,
        by_hour=by_hour,
        refreshed_at=state,
    )
