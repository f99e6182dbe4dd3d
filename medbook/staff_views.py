"""The staff console's frame: home, logout, the periodic jobs and the operation log."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

from . import selectors
from .forms import OperationLogFilter
from .staff import staff_required


class StaffLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("staff:login")


@require_GET
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/home.html")


@require_GET
@staff_required("django_celery_beat.view_periodictask")
def jobs(request: HttpRequest) -> HttpResponse:
    """Every periodic job with its schedule and last run (schedules are edited in admin)."""
    return render(request, "staff/jobs.html", {"rows": selectors.periodic_jobs()})


@require_GET
@staff_required("medbook.view_operation_log")
def operation_log(request: HttpRequest) -> HttpResponse:
    """Browse the operation log, newest first, filtered by operation, login, outcome and day."""
    filters = OperationLogFilter(request.GET)
    rows = selectors.operation_log(**filters.criteria())
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/operation_log.html",
        {
            "page": page,
            "filters": filters.shown(),
            "outcomes": selectors.OUTCOME_CHOICES,
            "extra": query.urlencode(),
        },
    )
