"""The dashboards, each described once: its address, title, template and how its page is built
from the filters. The console's list of reports, the pages and the exports all read this list;
a new dashboard is a new entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext, pgettext_lazy

from . import charts, selectors, tables
from .selectors import BookingFilters, appointments
from .tables import Column, Table


@dataclass(frozen=True)
class Page:
    """What a dashboard's template gets: the selector's result, the headline figures, the
    charts' data and the tables (which an export writes)."""

    dashboard: object
    headline: list[selectors.Change]
    charts: dict
    tables: dict[str, Table]


@dataclass(frozen=True)
class Detail:
    """The rows behind a dashboard, one per record (its detail export): a title, the columns
    (labelled in the active language), how many rows the filters give (for the progress bar)
    and the rows, a chunk at a time (``masked``: personal data masked)."""

    title: Promise
    columns: Callable[[], tuple[Column, ...]]
    count: Callable[[BookingFilters], int]
    chunks: Callable[[BookingFilters, bool], Iterator[list[tuple]]]


APPOINTMENTS = Detail(
    title=_lazy("Appointment list"),
    columns=appointments.appointment_columns,
    count=lambda filters: appointments.count_appointments(filters=filters),
    chunks=lambda filters, masked: appointments.appointment_rows(filters=filters, masked=masked),
)


@dataclass(frozen=True)
class Dashboard:
    slug: str  # the address under /staff/reports/ and the URL name's suffix
    title: Promise
    summary: Promise
    template: str
    build: Callable[[BookingFilters, dt.date], Page]
    # The filters that apply (reports.forms.BookingFilterForm's fields; the period always).
    filters: tuple[str, ...] = ("department", "doctor", "level", "channel")
    # The records behind the figures, for a detail export (None: the tables are the export).
    detail: Detail | None = None

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


def _revenue(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.revenue_dashboard(filters=filters)
    headline = selectors.changes(
        dashboard,
        {
            "paid": pgettext("revenue", "Paid"),
            "refunded": pgettext("revenue", "Refunded"),
            "net": _("Net revenue"),
            "payments": _("Orders paid"),
            "refunds": _("Refunds"),
            "discount": _("Discount cost"),
        },
        lower_is_better=frozenset({"refunded", "refunds", "discount"}),
        money=frozenset({"paid", "refunded", "net", "discount"}),
    )
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.revenue_charts(dashboard),
        tables=tables.revenue_tables(dashboard),
    )


def _releases(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.releases_dashboard(filters=filters)
    totals, previous = dashboard.totals, dashboard.previous
    headline = [
        selectors.Change("released", _("Sessions released"), totals.released, previous.released),
        selectors.Change(
            "sold_out_rate",
            _("Sold out"),
            totals.sold_out_rate,
            previous.sold_out_rate,
            is_percent=True,
        ),
        selectors.Change(
            "within_minute_rate",
            _("Sold out within a minute"),
            totals.within_minute_rate,
            previous.within_minute_rate,
            is_percent=True,
        ),
        selectors.Change(
            "average_minutes",
            _("Average time to sell out (min)"),
            totals.average_minutes,
            previous.average_minutes,
        ),
        selectors.Change(
            "refused",
            _("Attempts refused as sold out"),
            totals.refused,
            previous.refused,
            lower_is_better=True,
        ),
    ]
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.releases_charts(dashboard),
        tables=tables.releases_tables(dashboard),
    )


def _flow(filters: BookingFilters, today: dt.date) -> Page:
    dashboard = selectors.flow_dashboard(filters=filters)
    totals, previous = dashboard.totals, dashboard.previous
    headline = [
        selectors.Change(
            "average_wait",
            _("Average wait (min)"),
            totals.average_wait,
            previous.average_wait,
            lower_is_better=True,
        ),
        selectors.Change(
            "average_visit",
            _("Average visit (min)"),
            totals.average_visit,
            previous.average_visit,
        ),
        selectors.Change(
            "per_hour", _("Visits per doctor-hour"), totals.per_hour, previous.per_hour
        ),
        selectors.Change("completed", _("Completed visits"), totals.completed, previous.completed),
        selectors.Change("arrived", _("Checked in"), totals.arrived, previous.arrived),
    ]
    return Page(
        dashboard=dashboard,
        headline=headline,
        charts=charts.flow_charts(dashboard),
        tables=tables.flow_tables(dashboard),
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
        detail=APPOINTMENTS,
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
        detail=APPOINTMENTS,
    ),
    Dashboard(
        slug="revenue",
        title=_lazy("Revenue"),
        summary=_lazy(
            "Paid, refunded and net by day, payment method, department and doctor; discount "
            "cost and revenue per member by level"
        ),
        template="reports/revenue.html",
        build=_revenue,
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
    Dashboard(
        slug="releases",
        title=_lazy("Release behaviour"),
        summary=_lazy(
            "How soon released sessions sell out, the share that does, and the attempts "
            "turned away as sold out"
        ),
        template="reports/releases.html",
        build=_releases,
        filters=("department", "doctor"),
    ),
    Dashboard(
        slug="flow",
        title=_lazy("Waiting and flow"),
        summary=_lazy(
            "Waits from check-in to call, visit lengths and visits per doctor-hour by "
            "department, doctor, day and hour"
        ),
        template="reports/flow.html",
        build=_flow,
        filters=("department", "doctor"),
    ),
)

BY_SLUG = {dashboard.slug: dashboard for dashboard in DASHBOARDS}
