"""The dashboards, each described once: its address, title, template and how its page is built
from the filters. The console's list of reports, the pages and the exports all read this list;
a new dashboard is a new entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy

from . import charts, selectors, tables
from .selectors import BookingFilters
from .tables import Table


@dataclass(frozen=True)
class Page:
    """What a dashboard's template gets: the selector's result, the headline figures, the
    charts' data and the tables (which an export writes)."""

    dashboard: object
    headline: list[selectors.Change]
    charts: dict
    tables: dict[str, Table]


@dataclass(frozen=True)
class Dashboard:
    slug: str  # the address under /staff/reports/ and the URL name's suffix
    title: Promise
    summary: Promise
    template: str
    build: Callable[[BookingFilters, dt.date], Page]

    @property
    def url_name(self) -> str:
        return f"reports_{self.slug.replace('-', '')}"


def _bookings(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.bookings_dashboard(filters=filters)
    headline = selectors.changes(
        dashboard,
        {
            "capacity": _("Slots offered"),
            "booked": _("Booked"),
            "utilisation": _("Utilisation"),
            "cancelled": _("Cancelled"),
            "no_show": _("No-shows"),
            "completed": _("Completed visits"),
        },
        lower_is_better=frozenset({"cancelled", "no_show"}),
    )
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.bookings_charts(dashboard),
        tables=tables.bookings_tables(dashboard, charts.weekday_names()),
    )


def _noshows(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.noshows_dashboard(filters=filters, today=today)
    headline = selectors.changes(
        dashboard,
        {
            "no_show_rate": _("No-show rate"),
            "cancel_rate": _("Cancellation rate"),
            "due": _("Visits due"),
            "no_show": _("No-shows"),
            "made": _("Appointments made"),
            "cancelled": _("Cancelled"),
        },
        lower_is_better=frozenset({"no_show_rate", "cancel_rate", "no_show", "cancelled"}),
    )
    headline.append(
        selectors.Change(
            name="paused",
            label=_("Members paused for no-shows"),
            current=len(dashboard.pauses),
            previous=dashboard.previous_pauses,
            lower_is_better=True,
        )
    )
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.noshows_charts(dashboard),
        tables=tables.noshows_tables(dashboard),
    )


def _members(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.members_dashboard(filters=filters)
    headline = selectors.changes(
        dashboard,
        {
            "signups": _("New members"),
            "active": _("Active members"),
            "members": _("Members at the end"),
            "upgrades": _("Upgrades"),
            "downgrades": _("Downgrades"),
            "points_issued": _("Points issued"),
            "points_redeemed": _("Points redeemed"),
            "points_adjusted": _("Points adjusted"),
        },
        lower_is_better=frozenset({"downgrades"}),
    )
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.members_charts(dashboard),
        tables=tables.members_tables(dashboard),
    )


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        slug="bookings",
        title=_lazy("Bookings and utilisation"),
        summary=_lazy("Booked against slots by day, department, doctor, session and hour"),
        template="reports/bookings.html",
        build=_bookings,
    ),
    Dashboard(
        slug="no-shows",
        title=_lazy("No-shows and cancellations"),
        summary=_lazy(
            "No-show and cancellation rates by department, doctor, level and how far ahead; "
            "who cancelled; members paused"
        ),
        template="reports/noshows.html",
        build=_noshows,
    ),
    Dashboard(
        slug="members",
        title=pgettext_lazy("report", "Members"),
        summary=_lazy(
            "New and active members, the level mix over time, upgrades and downgrades, points "
            "issued, redeemed and adjusted"
        ),
        template="reports/members.html",
        build=_members,
    ),
)

BY_SLUG = {dashboard.slug: dashboard for dashboard in DASHBOARDS}
