"""The staff console's frame: home, logout, the periodic jobs and the operation log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import clinic, selectors
from .forms import ClinicProfileForm, OperationLogFilter
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


@require_http_methods(["GET", "POST"])
@staff_required("medbook.change_clinicprofile")
def clinic_profile(request: HttpRequest) -> HttpResponse:
    """诊所信息: the name, address, phone and opening hours patients see on every page."""
    form = ClinicProfileForm(request.POST or None, initial=clinic.clinic_profile())
    if request.method == "POST" and form.is_valid():
        clinic.update_clinic_profile(data=form.cleaned_data, by=request.user, request=request)
        messages.success(request, _("The clinic's details are saved."))
        return redirect("staff:clinic")
    context = {"form": form, "title": _("Clinic details"), "back": reverse("staff:home")}
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/form.html", context, status=status)
