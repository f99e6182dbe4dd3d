"""The release behaviour dashboard (放号情况): from the release rollup (DailyReleaseStat), how
the sessions of the period sold out after their public release — the share that did, how
soon (the distribution over reports.choices.SellOut), the average time it took — and the
demand beyond their slots: attempts the release gate refused as sold out, where recorded
(appointments.ReleaseDemand: counted in Redis, so a Redis outage or flush loses some).

The period is the sessions' days (as on every dashboard), not the days they were released.
Level and channel do not apply: a session sells out whoever books it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet, Sum

from appointments.choices import Session
from medbook.i18n import local_name

from ..choices import SellOut
from ..models import DailyReleaseStat, RollupState
from .bookings import DEPARTMENT, DOCTOR, BookingFilters, day_rows, department_rows, percent

BUCKETS = SellOut.columns()
COUNTS = ("released", "capacity", "sold_out", "sold_out_after_us", "refused", "sessions_refusing")
MICROSECONDS_PER_MINUTE = 60_000_000


def minutes(microseconds: int, count: int) -> Decimal | None:
    """The average of ``count`` durations summing ``microseconds``, in minutes (one decimal)."""
    if not count:
        return None
    return (Decimal(microseconds) / count / MICROSECONDS_PER_MINUTE).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class ReleaseFigures:
    """The released sessions of one slice (a day, a department, a doctor …)."""

    released: int = 0
    capacity: int = 0
    sold_out: int = 0
    sold_out_after_us: int = 0
    refused: int = 0
    sessions_refusing: int = 0
    buckets: dict[int, int] = field(default_factory=dict)

    @property
    def sold_out_rate(self) -> Decimal | None:
        """Sold out, as a percentage of the sessions released."""
        return percent(self.sold_out, self.released)

    @property
    def within_minute_rate(self) -> Decimal | None:
        """Sold out within a minute of the public release (or before it), in percent."""
        return percent(
            self.buckets.get(SellOut.BEFORE_RELEASE, 0) + self.buckets.get(SellOut.MINUTE, 0),
            self.released,
        )

    @property
    def average_minutes(self) -> Decimal | None:
        """The average time from public release to sold out of the sessions that sold out at
        or after their release, in minutes (those sold out before it are in their bucket)."""
        timed = self.sold_out - self.buckets.get(SellOut.BEFORE_RELEASE, 0)
        return minutes(self.sold_out_after_us, timed)

    @property
    def refused_per_sold_out(self) -> Decimal | None:
        """Attempts refused as sold out, per session sold out (one decimal)."""
        if not self.sold_out:
            return None
        return (Decimal(self.refused) / self.sold_out).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    def add(self, values: dict) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + (values.get(f"n_{name}") or 0))
        for bucket, column in BUCKETS.items():
            self.buckets[bucket] = self.buckets.get(bucket, 0) + (values.get(f"n_{column}") or 0)


@dataclass
class ReleaseRow:
    key: object
    label: str
    figures: ReleaseFigures = field(default_factory=ReleaseFigures)


@dataclass
class ReleasesDashboard:
    filters: BookingFilters
    previous_filters: BookingFilters
    totals: ReleaseFigures
    previous: ReleaseFigures
    by_day: list[ReleaseRow]
    by_department: list[ReleaseRow]
    by_doctor: list[ReleaseRow]
    by_session: list[ReleaseRow]
    # (bucket, label, sessions) in the buckets' order
    distribution: list[tuple[int, str, int]]
    refreshed_at: dt.datetime | None


def release_rows(filters: BookingFilters) -> QuerySet[DailyReleaseStat]:
    rows = DailyReleaseStat.objects.filter(date__range=(filters.start, filters.end))
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(doctor=filters.doctor)
    return rows.order_by()


def _sums() -> dict:
    """The sums of a slice, named ``n_<column>`` (an alias may not shadow its column)."""
    columns = [*COUNTS, *BUCKETS.values()]
    return {f"n_{column}": Sum(column) for column in columns}


def _grouped(filters: BookingFilters, keys: list[str]) -> dict[tuple, ReleaseFigures]:
    found: dict[tuple, ReleaseFigures] = {}
    for values in release_rows(filters).values(*keys).annotate(**_sums()):
        found.setdefault(tuple(values[key] for key in keys), ReleaseFigures()).add(values)
    return found


def _totals(filters: BookingFilters) -> ReleaseFigures:
    totals = ReleaseFigures()
    totals.add(release_rows(filters).aggregate(**_sums()))
    return totals


def releases_dashboard(*, filters: BookingFilters) -> ReleasesDashboard:
    """放号情况: the period's and the previous period's totals, and the figures by day,
    department, doctor and session. Six small queries on the release rollup."""
    by_day = day_rows(filters, _grouped(filters, ["date"]), ReleaseRow, ReleaseFigures)
    by_department = department_rows(_grouped(filters, DEPARTMENT), ReleaseRow)
    doctors = _grouped(filters, DOCTOR)
    by_doctor = sorted(
        (
            ReleaseRow(key=pk, label=local_name(name, name_en), figures=f)
            for (pk, name, name_en), f in doctors.items()
        ),
        key=lambda row: (-row.figures.refused, -row.figures.sold_out, row.label),
    )
    sessions = _grouped(filters, ["session"])
    by_session = [
        ReleaseRow(key=value, label=str(label), figures=sessions[(value,)])
        for value, label in Session.choices
        if (value,) in sessions
    ]
    totals = _totals(filters)
    distribution = [
        (bucket, str(label), totals.buckets.get(bucket, 0)) for bucket, label in SellOut.choices
    ]
    previous_filters = filters.previous()
    state = RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return ReleasesDashboard(
        filters=filters,
        previous_filters=previous_filters,
        totals=totals,
        previous=_totals(previous_filters),
        by_day=by_day,
        by_department=by_department,
        by_doctor=by_doctor,
        by_session=by_session,
        distribution=distribution,
        refreshed_at=state,
    )
