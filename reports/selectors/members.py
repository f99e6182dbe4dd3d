"""The members dashboard (会员): new members, active members, the level mix over time, level
changes (upgrades and downgrades) and the points ledger, from the members' rollups
(reports.models: DailyMemberStat, DailyLevelChange, DailyPointsStat, DailyActiveMember).

Definitions, as the page states them:

- A new member is counted on the day of their registration in the clinic's time zone, at the
  level they joined at.
- A member is active on a day when they made an appointment that day (one cancelled later
  still counts: they booked) or came to a visit that day (checked in); a no-show is active on
  the day they booked, not on the day they missed. Active members of a period are distinct
  members: one active on five days is one.
- The level mix at the end of a day: every member registered by then, at their level then
  (the level they joined at moved by each level change since). Members are never deleted
  (appointments and the ledger protect them), so none leave the mix.
- Points issued: earned by visits and opening balances; redeemed: spent on redemptions;
  adjusted: staff corrections and reversals, net (may be negative).

Filters: the member level narrows every figure (new members by the level they joined at,
level changes into or out of the level, points and active members by the level at the time,
the level mix to that level); department, doctor and channel narrow the active members only —
the other figures belong to the member, not to a session.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Q, QuerySet, Sum

from members.models import MemberLevel, PointsReason

from ..models import (
    DailyActiveMember,
    DailyLevelChange,
    DailyMemberStat,
    DailyPointsStat,
    RollupState,
)
from .bookings import BookingFilters

# Above this many days the level mix is shown per week (its last day), not per day.
DAILY_MIX_DAYS = 92

ISSUED = (PointsReason.VISIT, PointsReason.MIGRATION)
REDEEMED = (PointsReason.REDEMPTION,)
ADJUSTED = (PointsReason.ADJUSTMENT, PointsReason.REVERSAL)


@dataclass
class Points:
    """Points added and taken, by reason (PointsReason value -> points)."""

    added: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    taken: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, reason: str, added: int, taken: int) -> None:
        self.added[reason] += added
        self.taken[reason] += taken

    def _net(self, reasons: tuple) -> int:
        return sum(self.added[r] - self.taken[r] for r in reasons)

    @property
    def issued(self) -> int:
        return self._net(ISSUED)

    @property
    def redeemed(self) -> int:
        return -self._net(REDEEMED)

    @property
    def adjusted(self) -> int:
        return self._net(ADJUSTED)


@dataclass
class MemberFigures:
    """The members' figures of one slice (the period, a day, a level): ``members`` at the end
    of it (the level mix; None where it means nothing, as for a day's row of a week)."""

    signups: int = 0
    active: int = 0
    upgrades: int = 0
    downgrades: int = 0
    members: int | None = None
    points: Points = field(default_factory=Points)

    @property
    def points_issued(self) -> int:
        return self.points.issued

    @property
    def points_redeemed(self) -> int:
        return self.points.redeemed

    @property
    def points_adjusted(self) -> int:
        return self.points.adjusted


@dataclass
class MemberRow:
    key: object
    label: str
    figures: MemberFigures = field(default_factory=MemberFigures)


@dataclass(frozen=True)
class LevelMove:
    """Members moved from one level to another in the period (and in the one before)."""

    from_label: str
    to_label: str
    upgrade: bool
    count: int
    previous: int


@dataclass(frozen=True)
class MixPoint:
    """Members at each level (in ``MembersDashboard.levels``' order) at the end of ``day``."""

    day: dt.date
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class MembersDashboard:
    filters: BookingFilters
    previous_filters: BookingFilters
    totals: MemberFigures
    previous: MemberFigures
    levels: list[MemberLevel]
    by_day: list[MemberRow]
    by_level: list[MemberRow]
    mix: list[MixPoint]
    mix_weekly: bool
    moves: list[LevelMove]
    points_by_reason: list[tuple[str, int, int]]  # reason, added, taken
    refreshed_at: dt.datetime | None


def _days(filters: BookingFilters) -> tuple[dt.date, dt.date]:
    return filters.start, filters.end


def _signups(filters: BookingFilters) -> QuerySet[DailyMemberStat]:
    rows = DailyMemberStat.objects.all()
    if filters.level is not None:
        rows = rows.filter(level=filters.level)
    return rows.order_by()


def _moves(filters: BookingFilters) -> QuerySet[DailyLevelChange]:
    rows = DailyLevelChange.objects.all()
    if filters.level is not None:
        rows = rows.filter(Q(from_level=filters.level) | Q(to_level=filters.level))
    return rows.order_by()


def _points(filters: BookingFilters) -> QuerySet[DailyPointsStat]:
    rows = DailyPointsStat.objects.filter(date__range=_days(filters))
    if filters.level is not None:
        rows = rows.filter(level=filters.level)
    return rows.order_by()


def _active(filters: BookingFilters) -> QuerySet[DailyActiveMember]:
    rows = DailyActiveMember.objects.filter(date__range=_days(filters))
    if filters.level is not None:
        rows = rows.filter(level=filters.level)
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(doctor=filters.doctor)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    return rows.order_by()


def active_members(filters: BookingFilters) -> int:
    """The distinct members active in the period (one query, however many days):
    ``COUNT(*)`` over ``SELECT DISTINCT member_id``, which PostgreSQL hashes, rather than
    ``COUNT(DISTINCT …)``, which always sorts (a year at 1M appointments: 125k rows)."""
    return _active(filters).values("member").distinct().count()


def _active_by(filters: BookingFilters, key: str) -> dict[object, int]:
    """The distinct members active in the period by ``key`` (the day, the level): the same
    ``SELECT DISTINCT`` inside, counted per key outside."""
    inner = _active(filters).values(key, "member").distinct()
    sql, params = inner.query.get_compiler(using=inner.db).as_sql()
    column = inner.query.get_compiler(using=inner.db).connection.ops.quote_name(key)
    with connections[inner.db].cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, COUNT(*) FROM ({sql}) distinct_members "  # noqa: S608 (ours)
            f"GROUP BY {column}",
            params,
        )
        return dict(cursor.fetchall())


def _mix_days(filters: BookingFilters) -> list[dt.date]:
    """The days the level mix is shown at: each day, or for a long range the last day of each
    week (Sunday) and the period's last day."""
    days = []
    day = filters.start
    while day <= filters.end:
        if filters.days <= DAILY_MIX_DAYS or day.weekday() == 6 or day == filters.end:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _period_totals(
    filters: BookingFilters, rank: dict[int, int], *, members_at_end: int
) -> tuple[MemberFigures, dict[tuple[int, int], int]]:
    """The totals of a period (the one before, for the headline's change) and its level
    changes by (from, to): four queries."""
    figures = MemberFigures(members=members_at_end)
    figures.signups = (
        _signups(filters).filter(date__range=_days(filters)).aggregate(n=Sum("signups"))["n"] or 0
    )
    moves = {
        (row["from_level"], row["to_level"]): row["n"]
        for row in _moves(filters)
        .filter(date__range=_days(filters))
        .values("from_level", "to_level")
        .annotate(n=Sum("changes"))
    }
    for (from_level, to_level), n in moves.items():
        if rank[to_level] > rank[from_level]:
            figures.upgrades += n
        else:
            figures.downgrades += n
    points = (
        _points(filters).values("reason").annotate(a=Sum("points_added"), t=Sum("points_taken"))
    )
    for row in points:
        figures.points.add(row["reason"], row["a"], row["t"])
    figures.active = active_members(filters)
    return figures, moves


def members_dashboard(*, filters: BookingFilters) -> MembersDashboard:
    """会员: the period's figures and the previous period's, by day and by level; the level mix
    at the end of each day (each week for long ranges); the level changes from → to; the
    points by reason. About twenty small queries on the rollups whatever the range: the level
    mix is the members who joined and moved before the period (two sums over all earlier
    rows, a few thousand at most) carried forward through the period's daily rows."""
    levels = list(MemberLevel.objects.order_by("level"))
    rank = {level.pk: level.level for level in levels}
    shown = [level for level in levels if filters.level is None or level.pk == filters.level.pk]
    start, end = _days(filters)
    previous_filters = filters.previous()

    # The level mix: the members at each level the day before the period …
    at_level: dict[int, int] = defaultdict(int)
    for row in _signups(filters).filter(date__lt=start).values("level").annotate(n=Sum("signups")):
        at_level[row["level"]] += row["n"]
    for row in (
        _moves(filters)
        .filter(date__lt=start)
        .values("from_level", "to_level")
        .annotate(n=Sum("changes"))
    ):
        at_level[row["from_level"]] -= row["n"]
        at_level[row["to_level"]] += row["n"]
    before_previous = dict(at_level)

    # … and the period's days.
    by_date: dict[dt.date, MemberFigures] = defaultdict(MemberFigures)
    joined: dict[dt.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    by_level: dict[int, MemberFigures] = defaultdict(MemberFigures)
    for row in (
        _signups(filters)
        .filter(date__range=(start, end))
        .values("date", "level")
        .annotate(n=Sum("signups"))
    ):
        by_date[row["date"]].signups += row["n"]
        by_level[row["level"]].signups += row["n"]
        joined[row["date"]][row["level"]] += row["n"]
    moved: dict[dt.date, list[tuple[int, int, int]]] = defaultdict(list)
    move_counts: dict[tuple[int, int], int] = defaultdict(int)
    for row in (
        _moves(filters)
        .filter(date__range=(start, end))
        .values("date", "from_level", "to_level")
        .annotate(n=Sum("changes"))
    ):
        pair = (row["from_level"], row["to_level"])
        moved[row["date"]].append((*pair, row["n"]))
        move_counts[pair] += row["n"]
        upgrade = rank[pair[1]] > rank[pair[0]]
        figures = by_date[row["date"]]
        if upgrade:
            figures.upgrades += row["n"]
            by_level[pair[1]].upgrades += row["n"]  # upgraded into the level
        else:
            figures.downgrades += row["n"]
            by_level[pair[1]].downgrades += row["n"]  # downgraded into the level
    for row in (
        _points(filters)
        .values("date", "level", "reason")
        .annotate(a=Sum("points_added"), t=Sum("points_taken"))
    ):
        by_date[row["date"]].points.add(row["reason"], row["a"], row["t"])
        by_level[row["level"]].points.add(row["reason"], row["a"], row["t"])
    for day, n in _active_by(filters, "date").items():
        by_date[day].active = n
    for level, n in _active_by(filters, "level").items():
        by_level[level].active = n

    mix_days = set(_mix_days(filters))
    mix: list[MixPoint] = []
    by_day: list[MemberRow] = []
    day = start
    while day <= end:
        for level, n in joined[day].items():
            at_level[level] += n
        for from_level, to_level, n in moved[day]:
            at_level[from_level] -= n
            at_level[to_level] += n
        figures = by_date.get(day, MemberFigures())
        figures.members = sum(at_level[level.pk] for level in shown)
        by_day.append(MemberRow(key=day, label=day.isoformat(), figures=figures))
        if day in mix_days:
            mix.append(MixPoint(day=day, counts=tuple(at_level[level.pk] for level in shown)))
        day += dt.timedelta(days=1)

    level_rows = []
    for level in shown:
        figures = by_level.get(level.pk, MemberFigures())
        figures.members = at_level[level.pk]
        level_rows.append(MemberRow(key=level.pk, label=level.local_name, figures=figures))

    totals = MemberFigures(members=sum(at_level[level.pk] for level in shown))
    for row in by_day:
        totals.signups += row.figures.signups
        totals.upgrades += row.figures.upgrades
        totals.downgrades += row.figures.downgrades
        for reason in PointsReason.values:
            totals.points.add(
                reason, row.figures.points.added[reason], row.figures.points.taken[reason]
            )
    totals.active = active_members(filters)

    # The previous period ends the day before this one starts: its members at the end are
    # those the level mix started from.
    previous, previous_moves = _period_totals(
        previous_filters, rank, members_at_end=sum(before_previous.get(lv.pk, 0) for lv in shown)
    )
    names = {level.pk: level.local_name for level in levels}
    moves = [
        LevelMove(
            from_label=names[pair[0]],
            to_label=names[pair[1]],
            upgrade=rank[pair[1]] > rank[pair[0]],
            count=move_counts.get(pair, 0),
            previous=previous_moves.get(pair, 0),
        )
        for pair in sorted(
            set(move_counts) | set(previous_moves), key=lambda p: (rank[p[0]], rank[p[1]])
        )
    ]
    points_by_reason = [
        (str(label), totals.points.added[value], totals.points.taken[value])
        for value, label in PointsReason.choices
        if totals.points.added[value] or totals.points.taken[value]
    ]
    state = RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return MembersDashboard(
        filters=filters,
        previous_filters=previous_filters,
        totals=totals,
        previous=previous,
        levels=shown,
        by_day=by_day,
        by_level=level_rows,
        mix=mix,
        mix_weekly=filters.days > DAILY_MIX_DAYS,
        moves=moves,
        points_by_reason=points_by_reason,
        refreshed_at=state,
    )
