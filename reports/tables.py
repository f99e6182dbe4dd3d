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
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .selectors import (
    BookingsDashboard,
    FlowDashboard,
    FlowRow,
    MembersDashboard,
    MoneyRow,
    NoShowsDashboard,
    ReleaseRow,
    ReleasesDashboard,
    RevenueDashboard,
    Row,
)
from .selectors.bookings import percent
from .selectors.noshows import RateRow


class Kind(StrEnum):
    """How a column's values are shown and written: text, a count, a percentage (0–100, one
    decimal), an amount of money in yuan (two decimals), minutes (one decimal), a ratio such as
    visits per hour (one decimal), a date."""

    TEXT = "text"
    DATE = "date"
    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    MINUTES = "minutes"
    DECIMAL = "decimal"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = Kind.COUNT

    @property
    def numeric(self) -> bool:
        return self.kind not in (Kind.TEXT, Kind.DATE)


def show(value: object, kind: Kind) -> str:
    """A value as the page shows it: ``—`` for none, ``1,234``, ``12.5%``, ``1,234.00``. Both
    of the console's languages group thousands with a comma and use a decimal point."""
    if value is None or value == "":
        return "—"
    if kind == Kind.PERCENT:
        return f"{value:.1f}%"
    if kind == Kind.MONEY:
        return f"{Decimal(value):,.2f}"
    if kind in (Kind.MINUTES, Kind.DECIMAL):
        return f"{value:.1f}"
    if kind == Kind.COUNT:
        return f"{value:,}"
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
    def body(self) -> SafeString:
        """The rows as table markup, the first cell of each a row heading. Built here rather
        than by the template's loops, which cost about ten times as much for a year's rows."""
        lines = []
        for row in self.rows:
            cells = [f'<th scope="row">{escape(show(row[0], self.columns[0].kind))}</th>']
            for value, column in zip(row[1:], self.columns[1:], strict=True):
                opening = '<td class="num">' if column.numeric else "<td>"
                cells.append(f"{opening}{escape(show(value, column.kind))}</td>")
            lines.append("<tr>" + "".join(cells) + "</tr>")
        return mark_safe("".join(lines))  # noqa: S308 (every value is escaped above)


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
                *(Column(level.local_name) for level in dashboard.levels),
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


def _money_table(key: str, title: str, heading: str, rows: list[MoneyRow]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(
            Column(heading, Kind.TEXT),
            Column(_("Orders paid")),
            Column(_("Paid (¥)"), Kind.MONEY),
            Column(_("Refunds")),
            Column(_("Refunded (¥)"), Kind.MONEY),
            Column(_("Net (¥)"), Kind.MONEY),
        ),
        rows=[
            (
                row.label,
                row.money.payments,
                row.money.paid,
                row.money.refunds,
                row.money.refunded,
                row.money.net,
            )
            for row in rows
        ],
        empty=_("No payments or refunds in this period."),
    )


def revenue_tables(dashboard: RevenueDashboard) -> dict[str, Table]:
    """收入: money by day, gateway, department and doctor; discount cost and net per paying
    member by level; the insurers' split."""
    levels = dashboard.by_level
    tables = [
        _money_table("by_day", _("Paid, refunded and net per day"), _("Day"), dashboard.by_day),
        _money_table(
            "by_gateway", _("By payment method"), _("Payment method"), dashboard.by_gateway
        ),
        _money_table("by_department", _("By department"), _("Department"), dashboard.by_department),
        _money_table("by_doctor", _("By doctor"), _("Doctor"), dashboard.by_doctor),
        Table(
            key="discount",
            title=_("Discount cost by member level"),
            columns=(
                Column(_("Member level"), Kind.TEXT),
                Column(_("Orders paid")),
                Column(_("Fees (¥)"), Kind.MONEY),
                Column(_("Paid (¥)"), Kind.MONEY),
                Column(_("Discount cost (¥)"), Kind.MONEY),
            ),
            rows=[
                (row.label, row.money.payments, row.money.fees, row.money.paid, row.money.discount)
                for row in levels
                if row.money.payments
            ],
            empty=_("No orders paid in this period."),
        ),
        Table(
            key="per_member",
            title=_("Net revenue per paying member by level"),
            columns=(
                Column(_("Member level"), Kind.TEXT),
                Column(_("Paying members")),
                Column(_("Net (¥)"), Kind.MONEY),
                Column(_("Net per paying member (¥)"), Kind.MONEY),
            ),
            rows=[
                (row.label, row.payers, row.money.net, row.per_member)
                for row in levels
                if row.payers
            ]
            + (
                [(_("All levels"), dashboard.payers, dashboard.totals.net, dashboard.per_member)]
                if dashboard.payers
                else []
            ),
            empty=_("No orders paid in this period."),
        ),
        Table(
            key="by_insurer",
            title=_("Medical insurance by insurer"),
            columns=(
                Column(_("Insurer"), Kind.TEXT),
                Column(_("Insured visits")),
                Column(_("Charges (¥)"), Kind.MONEY),
                Column(_("Fund (¥)"), Kind.MONEY),
                Column(_("Personal account (¥)"), Kind.MONEY),
                Column(_("Self-pay (¥)"), Kind.MONEY),
                Column(_("Reversed by refunds (¥)"), Kind.MONEY),
                Column(_("Due from the insurer (¥)"), Kind.MONEY),
            ),
            rows=[
                (
                    row.label,
                    row.visits,
                    row.total,
                    row.fund,
                    row.personal,
                    row.self_pay,
                    row.reversed_fund + row.reversed_personal,
                    row.insurer_owes,
                )
                for row in dashboard.by_insurer
            ],
            empty=_("No insured visits were settled in this period."),
        ),
    ]
    return {table.key: table for table in tables}


def _release_table(key: str, title: str, heading: str, rows: list[ReleaseRow]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(
            Column(heading, Kind.TEXT),
            Column(_("Sessions released")),
            Column(_("Slots offered")),
            Column(_("Sold out")),
            Column(_("Sold out (%)"), Kind.PERCENT),
            Column(_("Within a minute (%)"), Kind.PERCENT),
            Column(_("Average time to sell out (min)"), Kind.MINUTES),
            Column(_("Attempts refused")),
            Column(_("Refused per session sold out"), Kind.DECIMAL),
        ),
        rows=[
            (
                row.label,
                row.figures.released,
                row.figures.capacity,
                row.figures.sold_out,
                row.figures.sold_out_rate,
                row.figures.within_minute_rate,
                row.figures.average_minutes,
                row.figures.refused,
                row.figures.refused_per_sold_out,
            )
            for row in rows
        ],
        empty=_("No sessions released in this period."),
    )


def releases_tables(dashboard: ReleasesDashboard) -> dict[str, Table]:
    """放号情况: how soon the sessions sold out; by day, department, session and doctor."""
    total = dashboard.totals.released
    tables = [
        Table(
            key="distribution",
            title=_("How soon sessions sold out"),
            columns=(
                Column(_("Time to sell out"), Kind.TEXT),
                Column(_("Sessions")),
                Column(_("Share of sessions released"), Kind.PERCENT),
            ),
            rows=[
                (label, count, percent(count, total))
                for _bucket, label, count in dashboard.distribution
            ]
            if total
            else [],
            empty=_("No sessions released in this period."),
        ),
        _release_table("by_day", _("Released and sold out per day"), _("Day"), dashboard.by_day),
        _release_table(
            "by_department", _("By department"), _("Department"), dashboard.by_department
        ),
        _release_table(
            "by_session", _("Morning and afternoon"), _("Session"), dashboard.by_session
        ),
        _release_table("by_doctor", _("By doctor"), _("Doctor"), dashboard.by_doctor),
    ]
    return {table.key: table for table in tables}


def _flow_table(key: str, title: str, heading: str, rows: list[FlowRow]) -> Table:
    return Table(
        key=key,
        title=title,
        columns=(
            Column(heading, Kind.TEXT),
            Column(_("Checked in")),
            Column(_("Average wait (min)"), Kind.MINUTES),
            Column(_("Average visit (min)"), Kind.MINUTES),
            Column(_("Completed visits")),
            Column(_("Doctor-hours")),
            Column(_("Visits per doctor-hour"), Kind.DECIMAL),
        ),
        rows=[
            (
                row.label,
                row.figures.arrived,
                row.figures.average_wait,
                row.figures.average_visit,
                row.figures.completed,
                row.figures.doctor_hours,
                row.figures.per_hour,
            )
            for row in rows
        ],
        empty=_("No patients arrived in this period."),
    )


def flow_tables(dashboard: FlowDashboard) -> dict[str, Table]:
    """候诊与接诊: waits, visit lengths and visits per doctor-hour by day, department, hour of
    the day and doctor."""
    tables = [
        _flow_table("by_day", _("Waiting and visits per day"), _("Day"), dashboard.by_day),
        _flow_table("by_department", _("By department"), _("Department"), dashboard.by_department),
        _flow_table("by_hour", _("By hour of the day"), _("Hour"), dashboard.by_hour),
        _flow_table("by_doctor", _("By doctor"), _("Doctor"), dashboard.by_doctor),
    ]
    return {table.key: table for table in tables}
