"""The dashboards' charts as data for static/js/reports.js (through ``json_script``): kinds,
categories, series and every label already in the page's language. No drawing options here."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from appointments.choices import WEEKDAYS

from .selectors import (
    BookingsDashboard,
    FlowDashboard,
    FlowRow,
    LevelRow,
    MembersDashboard,
    MoneyRow,
    NoShowsDashboard,
    RateRow,
    ReleaseRow,
    ReleasesDashboard,
    RevenueDashboard,
    Row,
)

# The doctors' chart shows the busiest ones; its table lists them all.
TOP_DOCTORS = 15


def weekday_names() -> list[str]:
    return [str(label) for _value, label in WEEKDAYS]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _bars(rows: list[Row], *, horizontal: bool = False, line: bool = False) -> dict:
    """Slots and booked side by side per category; the utilisation as a line on its own axis
    (``line``, for a time series) or as the label of each booked bar."""
    utilisation = [_number(row.figures.utilisation) for row in rows]
    booked: dict = {"name": _("Booked"), "data": [row.figures.booked for row in rows]}
    series = [
        {"name": _("Slots offered"), "data": [row.figures.capacity for row in rows]},
        booked,
    ]
    if line:
        series.append({"name": _("Utilisation (%)"), "line": True, "data": utilisation})
    else:
        booked["labels"] = ["" if value is None else f"{value:g}%" for value in utilisation]
    return {
        "kind": "bars",
        "horizontal": horizontal,
        "categories": [row.label for row in rows],
        "series": series,
        "valueName": _("Slots and bookings"),
        "percentName": _("Utilisation (%)"),
    }


def bookings_charts(dashboard: BookingsDashboard) -> dict:
    hours = [f"{hour:02d}:00" for hour in dashboard.heat_hours]
    weekdays = weekday_names()
    cells = []
    for weekday, by_hour in dashboard.heat.items():
        for column, hour in enumerate(dashboard.heat_hours):
            figures = by_hour[hour]
            if figures.capacity or figures.booked:
                cells.append([column, weekday, _number(figures.utilisation), figures.booked])
    doctors = dashboard.by_doctor[:TOP_DOCTORS]
    return {
        "by_day": _bars(dashboard.by_day, line=True),
        "by_department": _bars(dashboard.by_department, horizontal=True),
        "by_doctor": _bars(doctors, horizontal=True),
        "by_session": _bars(dashboard.by_session),
        "heat": {
            "kind": "heatmap",
            "x": hours,
            "y": weekdays,
            "cells": cells,
            "name": _("Utilisation (%)"),
            "bookedName": _("Booked"),
        },
        "empty": _("No sessions in this period."),
    }


def _labels(values: list[float | None]) -> list[str]:
    return ["" if value is None else f"{value:g}%" for value in values]


def _rates(rows: list[RateRow], *, horizontal: bool = True) -> dict:
    """The no-show and cancellation rates side by side per category, each bar labelled."""
    no_show = [_number(row.figures.no_show_rate) for row in rows]
    cancel = [_number(row.figures.cancel_rate) for row in rows]
    return {
        "kind": "bars",
        "horizontal": horizontal,
        "categories": [row.label for row in rows],
        "series": [
            {"name": _("No-show rate (%)"), "data": no_show, "labels": _labels(no_show)},
            {"name": _("Cancellation rate (%)"), "data": cancel, "labels": _labels(cancel)},
        ],
        "valueName": _("Rate (%)"),
        "percentName": _("Rate (%)"),
    }


def noshows_charts(dashboard: NoShowsDashboard) -> dict:
    by_day = dashboard.by_day
    no_show = [_number(row.figures.no_show_rate) for row in by_day]
    cancel = [_number(row.figures.cancel_rate) for row in by_day]
    has_bookings = any(row.figures.made for row in by_day)
    return {
        "by_day": {
            "kind": "bars",
            "horizontal": False,
            "categories": [row.label for row in by_day] if has_bookings else [],
            "series": [
                {"name": _("Cancelled"), "data": [row.figures.cancelled for row in by_day]},
                {"name": _("No-shows"), "data": [row.figures.no_show for row in by_day]},
                {"name": _("No-show rate (%)"), "line": True, "data": no_show},
                {"name": _("Cancellation rate (%)"), "line": True, "data": cancel},
            ],
            "valueName": _("No-shows and cancellations"),
            "percentName": _("Rate (%)"),
        },
        "by_department": _rates(dashboard.by_department),
        "by_doctor": _rates(dashboard.by_doctor[:TOP_DOCTORS]),
        "by_level": _rates(dashboard.by_level),
        "by_lead_time": _rates(dashboard.by_lead_time),
        "by_canceller": {
            "kind": "bars",
            "horizontal": True,
            "categories": [label for label, _count in dashboard.by_canceller]
            if dashboard.totals.cancelled
            else [],
            "series": [
                {
                    "name": _("Cancelled"),
                    "data": [count for _label, count in dashboard.by_canceller],
                    "labels": [str(count) for _label, count in dashboard.by_canceller],
                }
            ],
            "valueName": _("Cancelled"),
            "percentName": "",
            "labelWidth": 120,
            "labelWrap": True,
        },
        "pauses": {
            "kind": "bars",
            "horizontal": False,
            "categories": [day.isoformat() for day, _n in dashboard.pauses_by_day]
            if any(n for _day, n in dashboard.pauses_by_day)
            else [],
            "series": [
                {"name": _("Pauses started"), "data": [n for _day, n in dashboard.pauses_by_day]}
            ],
            "valueName": "",
            "percentName": "",
            "emptyText": _("No member was paused for no-shows in this period."),
        },
        "empty": _("No appointments in this period."),
    }


def _yuan(value: Decimal | None) -> str:
    """An amount as a bar's label: ``¥1,234.50``."""
    return "" if value is None else f"¥{value:,.2f}"


def _money_bars(rows: list[MoneyRow], *, horizontal: bool = True, line: bool = False) -> dict:
    """Paid and refunded side by side per category, and the net: as a line on the same axis
    (``line``, for a time series) or as a third, labelled bar. Amounts as floats: the chart
    only draws them; the tables and the headline keep the Decimals."""
    net = [float(row.money.net) for row in rows]
    series: list[dict] = [
        {"name": pgettext("revenue", "Paid"), "data": [float(row.money.paid) for row in rows]},
        {
            "name": pgettext("revenue", "Refunded"),
            "data": [float(row.money.refunded) for row in rows],
        },
    ]
    if line:
        series.append({"name": _("Net"), "line": True, "sameAxis": True, "data": net})
    else:
        series.append(
            {"name": _("Net"), "data": net, "labels": [_yuan(row.money.net) for row in rows]}
        )
    moved = any(row.money.payments or row.money.refunds for row in rows)
    return {
        "kind": "bars",
        "horizontal": horizontal,
        "categories": [row.label for row in rows] if moved else [],
        "series": series,
        "valueName": _("Amount (¥)"),
        "percentName": "",
    }


def _level_bars(rows: list[LevelRow], name: str, values: list[Decimal | None]) -> dict:
    """One amount per member level, each bar labelled."""
    return {
        "kind": "bars",
        "horizontal": True,
        "categories": [row.label for row in rows],
        "series": [
            {
                "name": name,
                "data": [None if value is None else float(value) for value in values],
                "labels": [_yuan(value) for value in values],
            }
        ],
        "valueName": _("Amount (¥)"),
        "percentName": "",
    }


def revenue_charts(dashboard: RevenueDashboard) -> dict:
    levels = dashboard.by_level
    paid_levels = [row for row in levels if row.money.payments]
    return {
        "by_day": _money_bars(dashboard.by_day, horizontal=False, line=True),
        "by_gateway": _money_bars(dashboard.by_gateway),
        "by_department": _money_bars(dashboard.by_department),
        "by_doctor": _money_bars(dashboard.by_doctor[:TOP_DOCTORS]),
        "discount": _level_bars(
            paid_levels, _("Discount cost"), [row.money.discount for row in paid_levels]
        ),
        "per_member": _level_bars(
            [row for row in levels if row.payers],
            _("Net per paying member"),
            [row.per_member for row in levels if row.payers],
        ),
        "empty": _("No payments or refunds in this period."),
    }


def _percent_bars(rows: list[ReleaseRow], name: str, values: list) -> dict:
    return {
        "kind": "bars",
        "horizontal": True,
        "categories": [row.label for row in rows] if any(r.figures.released for r in rows) else [],
        "series": [{"name": name, "data": values, "labels": _labels(values)}],
        "valueName": name,
        "percentName": "",
        "valueMax": 100,
        "decimals": True,
    }


def releases_charts(dashboard: ReleasesDashboard) -> dict:
    """放号情况: how soon the sessions sold out (the distribution), released and sold out per
    day with the sold-out share, the demand beyond the slots per day, the share sold out by
    department and by doctor."""
    by_day = dashboard.by_day
    released = any(row.figures.released for row in by_day)
    total = dashboard.totals.released
    shares = [
        "" if not total else f"{count} · {100 * count / total:.1f}%"
        for _bucket, _label, count in dashboard.distribution
    ]
    doctors = dashboard.by_doctor[:TOP_DOCTORS]
    sold_out = _("Sold out (%)")
    return {
        "distribution": {
            "kind": "bars",
            "horizontal": True,
            "categories": [label for _b, label, _n in dashboard.distribution] if total else [],
            "series": [
                {
                    "name": _("Sessions"),
                    "data": [count for _b, _l, count in dashboard.distribution],
                    "labels": shares,
                }
            ],
            "valueName": _("Sessions"),
            "percentName": "",
            "labelWidth": 120,
            "labelWrap": True,
        },
        "by_day": {
            "kind": "bars",
            "horizontal": False,
            "categories": [row.label for row in by_day] if released else [],
            "series": [
                {"name": _("Sessions released"), "data": [r.figures.released for r in by_day]},
                {"name": _("Sold out"), "data": [r.figures.sold_out for r in by_day]},
                {
                    "name": sold_out,
                    "line": True,
                    "data": [_number(r.figures.sold_out_rate) for r in by_day],
                },
            ],
            "valueName": _("Sessions"),
            "percentName": sold_out,
        },
        "demand": {
            "kind": "bars",
            "horizontal": False,
            "categories": [row.label for row in by_day] if released else [],
            "series": [
                {"name": _("Slots offered"), "data": [r.figures.capacity for r in by_day]},
                {"name": _("Attempts refused"), "data": [r.figures.refused for r in by_day]},
            ],
            "valueName": _("Slots and attempts"),
            "percentName": "",
        },
        "by_department": _percent_bars(
            dashboard.by_department,
            sold_out,
            [_number(r.figures.sold_out_rate) for r in dashboard.by_department],
        ),
        "by_doctor": _percent_bars(
            doctors, sold_out, [_number(r.figures.sold_out_rate) for r in doctors]
        ),
        "by_session": _percent_bars(
            dashboard.by_session,
            sold_out,
            [_number(r.figures.sold_out_rate) for r in dashboard.by_session],
        ),
        "empty": _("No sessions released in this period."),
    }


def _minutes_labels(values: list[float | None]) -> list[str]:
    return ["" if value is None else f"{value:g}" for value in values]


def flow_charts(dashboard: FlowDashboard) -> dict:
    """候诊与接诊: visits completed per day with the average wait and visit (minutes), the
    average wait and visit by department, visits per doctor-hour by doctor and by hour."""
    by_day = dashboard.by_day
    seen = any(row.figures.arrived or row.figures.completed for row in by_day)
    minutes_name = _("Minutes")
    doctors = dashboard.by_doctor[:TOP_DOCTORS]

    def waits(rows: list[FlowRow]) -> dict:
        wait = [_number(row.figures.average_wait) for row in rows]
        visit = [_number(row.figures.average_visit) for row in rows]
        return {
            "kind": "bars",
            "horizontal": True,
            "categories": [row.label for row in rows] if seen else [],
            "series": [
                {"name": _("Average wait (min)"), "data": wait, "labels": _minutes_labels(wait)},
                {"name": _("Average visit (min)"), "data": visit, "labels": _minutes_labels(visit)},
            ],
            "valueName": minutes_name,
            "percentName": "",
            "decimals": True,
        }

    def per_hour(rows: list[FlowRow], *, horizontal: bool) -> dict:
        values = [_number(row.figures.per_hour) for row in rows]
        return {
            "kind": "bars",
            "horizontal": horizontal,
            "categories": [row.label for row in rows] if seen else [],
            "series": [
                {
                    "name": _("Visits per doctor-hour"),
                    "data": values,
                    "labels": _minutes_labels(values),
                }
            ],
            "valueName": _("Visits per doctor-hour"),
            "percentName": "",
            "decimals": True,
        }

    return {
        "by_day": {
            "kind": "bars",
            "horizontal": False,
            "categories": [row.label for row in by_day] if seen else [],
            "series": [
                {"name": _("Completed visits"), "data": [r.figures.completed for r in by_day]},
                {
                    "name": _("Average wait (min)"),
                    "line": True,
                    "data": [_number(r.figures.average_wait) for r in by_day],
                },
                {
                    "name": _("Average visit (min)"),
                    "line": True,
                    "data": [_number(r.figures.average_visit) for r in by_day],
                },
            ],
            "valueName": _("Completed visits"),
            "percentName": minutes_name,
            "lineMax": None,
        },
        "by_department": waits(dashboard.by_department),
        "by_doctor": per_hour(doctors, horizontal=True),
        "by_hour": per_hour(dashboard.by_hour, horizontal=False),
        "empty": _("No patients arrived in this period."),
    }


def _series_or_empty(categories: list[str], series: list[dict]) -> list[str]:
    """The categories, or none (the page then says there is nothing) when every value is 0."""
    has_data = any(value for s in series for value in s["data"] if value is not None)
    return categories if has_data else []


def members_charts(dashboard: MembersDashboard) -> dict:
    """会员: new and active members per day, the level mix (stacked areas), upgrades and
    downgrades per day and by from → to, points per day (issued and adjustments up, redemptions
    down) and the figures by level."""
    days = [row.label for row in dashboard.by_day]
    # A day's sign-ups are a few against hundreds of active members: a line on its own axis.
    people = [
        {"name": _("Active members"), "data": [row.figures.active for row in dashboard.by_day]},
        {
            "name": _("New members"),
            "data": [row.figures.signups for row in dashboard.by_day],
            "line": True,
        },
    ]
    mix = [
        {
            "name": level.local_name,
            "data": [point.counts[index] for point in dashboard.mix],
            "area": True,
            "stack": "mix",
        }
        for index, level in enumerate(dashboard.levels)
    ]
    moves_by_day = [
        {"name": _("Upgrades"), "data": [row.figures.upgrades for row in dashboard.by_day]},
        {"name": _("Downgrades"), "data": [row.figures.downgrades for row in dashboard.by_day]},
    ]
    moves = [
        {
            "name": _("This period"),
            "data": [move.count for move in dashboard.moves],
            "labels": [str(move.count) for move in dashboard.moves],
        },
        {"name": _("Previous period"), "data": [move.previous for move in dashboard.moves]},
    ]
    points = [
        {
            "name": _("Issued"),
            "data": [row.figures.points_issued for row in dashboard.by_day],
            "stack": "points",
        },
        {
            "name": _("Adjusted"),
            "data": [row.figures.points_adjusted for row in dashboard.by_day],
            "stack": "points",
        },
        {
            "name": _("Redeemed"),
            "data": [-row.figures.points_redeemed for row in dashboard.by_day],
            "stack": "points",
        },
    ]
    levels = [row.label for row in dashboard.by_level]
    by_level = [
        {
            "name": _("Members at the end"),
            "data": [row.figures.members for row in dashboard.by_level],
            "labels": [str(row.figures.members) for row in dashboard.by_level],
        },
        {"name": _("Active members"), "data": [row.figures.active for row in dashboard.by_level]},
        {"name": _("New members"), "data": [row.figures.signups for row in dashboard.by_level]},
    ]
    points_by_level = [
        {"name": _("Issued"), "data": [row.figures.points_issued for row in dashboard.by_level]},
        {
            "name": _("Redeemed"),
            "data": [row.figures.points_redeemed for row in dashboard.by_level],
        },
        {
            "name": _("Adjusted"),
            "data": [row.figures.points_adjusted for row in dashboard.by_level],
        },
    ]
    return {
        "people": {
            "kind": "bars",
            "horizontal": False,
            "categories": _series_or_empty(days, people),
            "series": people,
            "valueName": _("Active members"),
            "percentName": _("New members"),
            "lineMax": None,
            "emptyText": _("No new or active members in this period."),
        },
        "mix": {
            "kind": "bars",
            "horizontal": False,
            "categories": _series_or_empty([p.day.isoformat() for p in dashboard.mix], mix),
            "series": mix,
            "valueName": _("Number of members"),
            "percentName": "",
            "emptyText": _("No members yet."),
        },
        "moves_by_day": {
            "kind": "bars",
            "horizontal": False,
            "categories": _series_or_empty(days, moves_by_day),
            "series": moves_by_day,
            "valueName": _("Number of members"),
            "percentName": "",
            "emptyText": _("No level changed in this period."),
        },
        "moves": {
            "kind": "bars",
            "horizontal": True,
            "categories": [f"{m.from_label} → {m.to_label}" for m in dashboard.moves],
            "series": moves,
            "valueName": _("Number of members"),
            "percentName": "",
            "labelWidth": 150,
            "labelWrap": True,
            "emptyText": _("No level changed in this period."),
        },
        "points": {
            "kind": "bars",
            "horizontal": False,
            "categories": _series_or_empty(days, points),
            "series": points,
            "valueName": _("Points"),
            "percentName": "",
            "emptyText": _("No points moved in this period."),
        },
        "by_level": {
            "kind": "bars",
            "horizontal": True,
            "categories": _series_or_empty(levels, by_level),
            "series": by_level,
            "valueName": _("Number of members"),
            "percentName": "",
        },
        "points_by_level": {
            "kind": "bars",
            "horizontal": True,
            "categories": _series_or_empty(levels, points_by_level),
            "series": points_by_level,
            "valueName": _("Points"),
            "percentName": "",
            "emptyText": _("No points moved in this period."),
        },
        "empty": _("No members yet."),
    }
