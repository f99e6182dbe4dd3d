"""The dashboards' charts as data for static/js/reports.js (through ``json_script``): kinds,
categories, series and every label already in the page's language. No drawing options here."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from appointments.choices import WEEKDAYS

from .selectors import BookingsDashboard, MembersDashboard, NoShowsDashboard, RateRow, Row

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


def _series_or_empty(categories: list[str], series: list[dict]) -> list[str]:
    """The categories, or none (the page then says there is nothing) when every value is 0."""
    has_data = any(value for s in series for value in s["data"] if value is not None)
    return categories if has_data else []


def members_charts(dashboard: MembersDashboard) -> dict:
    """会员: new and active members per day, the level mix (stacked areas), upgrades and
    downgrades per day and by from → to, points per day (issued and adjustments up, redemptions
    down) and the figures by level."""
    days = [row.label for row in dashboard.by_day]
    people = [
        {"name": _("New members"), "data": [row.figures.signups for row in dashboard.by_day]},
        {"name": _("Active members"), "data": [row.figures.active for row in dashboard.by_day]},
    ]
    mix = [
        {
            "name": level.name,
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
            "valueName": _("Number of members"),
            "percentName": "",
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
