"""The reports' pages in the staff console: the list of dashboards and each dashboard (one view
for all, described in reports.dashboards)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from medbook.staff import staff_required

from . import charts
from .dashboards import BY_SLUG, DASHBOARDS
from .forms import BookingFilterForm

PERMISSION = "reports.view_reports"


@require_GET
@staff_required(PERMISSION)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"dashboards": DASHBOARDS})


@require_GET
@staff_required(PERMISSION)
def dashboard(request: HttpRequest, *, slug: str) -> HttpResponse:
    """A dashboard for the period and filters in the query string (400 with the form's errors
    when they don't make sense)."""
    spec = BY_SLUG[slug]
    today = timezone.localdate()
    form = BookingFilterForm(request.GET, today=today, only=spec.filters)
    if not form.is_valid():
        return render(request, spec.template, {"form": form, "spec": spec}, status=400)
    page = spec.build(form.filters(), today)
    return render(
        request,
        spec.template,
        {
            "form": form,
            "spec": spec,
            "dashboard": page.dashboard,
            "headline": page.headline,
            "charts": page.charts,
            "tables": page.tables,
            "charts_top": charts.TOP_DOCTORS,
        },
    )
