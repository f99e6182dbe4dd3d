"""The dashboards' charts as data for static/js/reports.js (through ``json_script``): kinds,
categories, series and every label already in the page's language. No drawing options here."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from appointments.choices import WEEKDAYS

from .selectors import BookingsDashboard, Row

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
