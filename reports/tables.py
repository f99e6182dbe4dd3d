"""The dashboards' tables, defined once: what a page shows under each chart ("Show as a table")
and what an export writes (CSV, XLSX). A table is a title, typed columns and rows of plain
values (``str``, ``int``, ``Decimal``, ``None``); the first column names the row.

Each dashboard has a function here turning its selector's result into its tables, keyed by a
short name the template includes them by (``tables.by_day``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .selectors import BookingsDashboard, MembersDashboard, NoShowsDashboard, Row
from .selectors.noshows import RateRow


class Kind(StrEnum):
    """How a column's values are shown and written: text, a count, a percentage (0–100, one
    decimal), an amount of money in yuan (two decimals), minutes (one decimal)."""

    TEXT = "text"
    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    MINUTES = "minutes"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = Kind.COUNT

    @property
    def numeric(self) -> bool:
        return self.kind != Kind.TEXT


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


def show(value: object, kind: Kind) -> str:
    """A value as the page shows it: ``—`` for none, ``12.5%``, ``1,234.00``."""
    if value is None or value == "":
        return "—"
    if kind == Kind.PERCENT:
        return f"{number_format(value, decimal_pos=1)}%"
    if kind == Kind.MONEY:
        return number_format(Decimal(value), decimal_pos=2, force_grouping=True)
    if kind == Kind.MINUTES:
        return number_format(value, decimal_pos=1)
    if kind == Kind.COUNT:
        return number_format(value, force_grouping=True)
    return str(value)


@dataclass(frozen=True)
class Table:
    """``key``: a short name (the template's and the export's); ``personal``: the rows hold
    personal data (masked here; an export is masked unless the role may unmask)."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple] = field(default_factory=list)
    empty: str = ""
    personal: bool = False

    @property
    def cells(self) -> list[list[Cell]]:
        """The rows as the page shows them."""
        return [
            [
                Cell(show(value, column.kind), column.numeric)
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]


def _figure_table(key: str, title: str, heading: str, rows: list[Row]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(
            Column(heading, Kind.TEXT),
            Column(_("Slots offered")),
            Column(_("Booked")),
            Column(_("Utilisation"), Kind.PERCENT),
            Column(_("Cancelled")),
            Column(_("No-shows")),
            Column(_("Completed visits")),
        ),
        rows=[
            (
                row.label,
                row.figures.capacity,
                row.figures.booked,
                row.figures.utilisation,
                row.figures.cancelled,
                row.figures.no_show,
                row.figures.completed,
            )
            for row in rows
        ],
        empty=_("No sessions in this period."),
    )


def bookings_tables(dashboard: BookingsDashboard, weekdays: list[str]) -> dict[str, Table]:
    """预约与号源利用率: by day, department, session and doctor; weekday × start hour."""
    heat_rows = []
    for weekday, by_hour in dashboard.heat.items():
        cells: list[object] = [weekdays[weekday]]
        for figures in by_hour.values():
            if not (figures.capacity or figures.booked):
                cells.append(None)
                continue
            text = f"{figures.booked}/{figures.capacity}"
            if figures.utilisation is not None:
                text += f" · {show(figures.utilisation, Kind.PERCENT)}"
            cells.append(text)
        heat_rows.append(tuple(cells))
    tables = [
        _figure_table("by_day", _("Booked and slots per day"), _("Day"), dashboard.by_day),
        _figure_table(
            "by_department", _("By department"), _("Department"), dashboard.by_department
        ),
        _figure_table("by_session", _("Morning and afternoon"), _("Session"), dashboard.by_session),
        _figure_table("by_doctor", _("By doctor"), _("Doctor"), dashboard.by_doctor),
        Table(
            key="heat",
            title=_("Utilisation by weekday and hour"),
            columns=(
                Column(_("Weekday"), Kind.TEXT),
                *(Column(f"{hour:02d}:00", Kind.TEXT) for hour in dashboard.heat_hours),
            ),
            rows=heat_rows if dashboard.heat_hours else [],
            empty=_("No sessions in this period."),
        ),
    ]
    return {table.key: table for table in tables}


def _rate_table(key: str, title: str, heading: str, rows: list[RateRow]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(
            Column(heading, Kind.TEXT),
            Column(_("Appointments made")),
            Column(_("Cancelled")),
            Column(_("Cancellation rate"), Kind.PERCENT),
            Column(_("Visits due")),
            Column(_("No-shows")),
            Column(_("No-show rate"), Kind.PERCENT),
        ),
        rows=[
            (
                row.label,
                row.figures.made,
                row.figures.cancelled,
                row.figures.cancel_rate,
                row.figures.due,
                row.figures.no_show,
                row.figures.no_show_rate,
            )
            for row in rows
        ],
        empty=_("No appointments in this period."),
    )


def noshows_tables(dashboard: NoShowsDashboard) -> dict[str, Table]:
    """爽约与取消: rates by day, department, level, lead time and doctor; who cancelled; the
    members paused (masked names)."""
    tables = [
        _rate_table("by_day", _("Cancellations and no-shows per day"), _("Day"), dashboard.by_day),
        _rate_table("by_department", _("By department"), _("Department"), dashboard.by_department),
        _rate_table("by_level", _("By member level"), _("Member level"), dashboard.by_level),
        _rate_table(
            "by_lead_time",
            _("By how far ahead it was booked"),
            _("Booked ahead"),
            dashboard.by_lead_time,
        ),
        Table(
            key="by_canceller",
            title=_("Who cancelled"),
            columns=(Column(_("Cancelled by"), Kind.TEXT), Column(_("Cancelled"))),
            rows=list(dashboard.by_canceller),
        ),
        _rate_table("by_doctor", _("By doctor"), _("Doctor"), dashboard.by_doctor),
        Table(
            key="pauses",
            title=_("Members paused for no-shows"),
            columns=(
                Column(_("Member"), Kind.TEXT),
                Column(_("Level"), Kind.TEXT),
                Column(_("Paused from"), Kind.TEXT),
                Column(_("Paused until"), Kind.TEXT),
                Column(_("Lifted by staff"), Kind.TEXT),
            ),
            rows=[
                (
                    pause.masked_name,
                    pause.level_name,
                    _moment(pause.started_at) + ("" if pause.from_history else " *"),
                    _moment(pause.until),
                    _moment(pause.lifted_at),
                )
                for pause in dashboard.pauses
            ],
            empty=_("No member was paused for no-shows in this period."),
            personal=True,
        ),
    ]
    return {table.key: table for table in tables}


def members_tables(dashboard: MembersDashboard) -> dict[str, Table]:
    """会员: by day, the level mix, level changes from → to, by level, points by reason."""
    day_columns = (
        Column(_("Day"), Kind.TEXT),
        Column(_("New members")),
        Column(_("Active members")),
        Column(_("Members at the end")),
        Column(_("Upgrades")),
        Column(_("Downgrades")),
        Column(_("Points issued")),
        Column(_("Points redeemed")),
        Column(_("Points adjusted")),
    )
    level_columns = (
        Column(_("Member level"), Kind.TEXT),
        Column(_("Members at the end")),
        Column(_("New members")),
        Column(_("Active members")),
        Column(_("Upgraded into")),
        Column(_("Downgraded into")),
        Column(_("Points issued")),
        Column(_("Points redeemed")),
        Column(_("Points adjusted")),
    )

    def figures(f) -> tuple:
        return (
            f.upgrades,
            f.downgrades,
            f.points_issued,
            f.points_redeemed,
            f.points_adjusted,
        )

    tables = [
        Table(
            key="by_day",
            title=_("Members per day"),
            columns=day_columns,
            rows=[
                (
                    row.label,
                    row.figures.signups,
                    row.figures.active,
                    row.figures.members,
                    *figures(row.figures),
                )
                for row in dashboard.by_day
            ],
        ),
        Table(
            key="mix",
            title=_("Members by level at the end of the week")
            if dashboard.mix_weekly
            else _("Members by level at the end of the day"),
            columns=(
                Column(_("Week ending") if dashboard.mix_weekly else _("Day"), Kind.TEXT),
                *(Column(level.name) for level in dashboard.levels),
                Column(_("All members")),
            ),
            rows=[(point.day.isoformat(), *point.counts, point.total) for point in dashboard.mix],
            empty=_("No members yet."),
        ),
        Table(
            key="moves",
            title=_("Level changes"),
            columns=(
                Column(_("From level"), Kind.TEXT),
                Column(_("To level"), Kind.TEXT),
                Column(_("Change"), Kind.TEXT),
                Column(_("This period")),
                Column(_("Previous period")),
            ),
            rows=[
                (
                    move.from_label,
                    move.to_label,
                    _("Upgrade") if move.upgrade else _("Downgrade"),
                    move.count,
                    move.previous,
                )
                for move in dashboard.moves
            ],
            empty=_("No level changed in this period."),
        ),
        Table(
            key="by_level",
            title=_("By member level"),
            columns=level_columns,
            rows=[
                (
                    row.label,
                    row.figures.members,
                    row.figures.signups,
                    row.figures.active,
                    *figures(row.figures),
                )
                for row in dashboard.by_level
            ],
        ),
        Table(
            key="points",
            title=_("Points by reason"),
            columns=(
                Column(_("Reason"), Kind.TEXT),
                Column(_("Points added")),
                Column(_("Points taken")),
            ),
            rows=list(dashboard.points_by_reason),
            empty=_("No points moved in this period."),
        ),
    ]
    return {table.key: table for table in tables}


def _moment(value: dt.datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
