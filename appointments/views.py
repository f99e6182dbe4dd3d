"""Public pages: the clinic's departments and doctors, and a doctor's coming sessions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .models import Doctor

SCHEDULE_DAYS = 14


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    departments = selectors.departments_with_doctors()
    return render(request, "appointments/home.html", {"departments": departments})


@require_GET
def doctor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    doctor = get_object_or_404(Doctor.objects.select_related("department"), pk=pk, is_active=True)
    now = timezone.now()
    schedules = selectors.schedules_for_doctor(
        doctor=doctor, start=timezone.localdate(now), days=SCHEDULE_DAYS
    )
    rows = [
        (schedule, selectors.schedule_availability(schedule=schedule, now=now))
        for schedule in schedules
    ]
    return render(
        request,
        "appointments/doctor_detail.html",
        {"doctor": doctor, "rows": rows, "days": SCHEDULE_DAYS},
    )
