"""The reports' pages in the staff console: the list of dashboards and each dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from medbook.staff import staff_required

from . import charts, selectors
from .forms import BookingFilterForm

PERMISSION = "reports.view_reports"


@require_GET
@staff_required(PERMISSION)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html")


@require_GET
@staff_required(PERMISSION)
def bookings(request: HttpRequest) -> HttpResponse:
    """预约与号源利用率: booked against capacity by day, department, doctor, session and
    weekday × hour, for a period and the one before it."""
    form = BookingFilterForm(request.GET, today=timezone.localdate())
    if not form.is_valid():
        return render(request, "reports/bookings.html", {"form": form}, status=400)
    dashboard = selectors.bookings_dashboard(filters=form.filters())
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
    return render(
        request,
        "reports/bookings.html",
        {
            "form": form,
            "dashboard": dashboard,
            "headline": headline,
            "charts": charts.bookings_charts(dashboard),
            "weekdays": charts.weekday_names(),
            "charts_top": charts.TOP_DOCTORS,
        },
    )


@require_GET
@staff_required(PERMISSION)
def noshows(request: HttpRequest) -> HttpResponse:
    """爽约与取消: no-show and cancellation rates by department, doctor, member level and lead
    time, the cancellations by who cancelled, and the members paused for no-shows."""
    today = timezone.localdate()
    form = BookingFilterForm(request.GET, today=today)
    if not form.is_valid():
        return render(request, "reports/noshows.html", {"form": form}, status=400)
    dashboard = selectors.noshows_dashboard(filters=form.filters(), today=today)
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
    return render(
        request,
        "reports/noshows.html",
        {
            "form": form,
            "dashboard": dashboard,
            "headline": headline,
            "charts": charts.noshows_charts(dashboard),
            "charts_top": charts.TOP_DOCTORS,
        },
    )
