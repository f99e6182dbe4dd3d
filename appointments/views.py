"""Public pages: departments and doctors, search, and a doctor's sessions with live counts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors

SCHEDULE_DAYS = 14


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    now = timezone.now()
    if query:
        return render(
            request,
            "appointments/search.html",
            {"query": query, "doctors": selectors.search_doctors(query=query, now=now)},
        )
    departments = selectors.departments_with_doctors(now)
    return render(request, "appointments/home.html", {"departments": departments})


@login_not_required
@require_GET
def doctor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor and their next 14 days; an HTMX request gets only the refreshed sessions."""
    doctor = selectors.public_doctor(pk=pk)
    if doctor is None:
        raise Http404("no such doctor")
    now = timezone.now()
    # The logged-in member (their level may open sessions earlier), or None.
    member = selectors.viewing_member(user=request.user)
    bookings = selectors.member_bookings(member=member, now=now) if member else None
    schedules = selectors.schedules_for_doctor(
        doctor=doctor, start=timezone.localdate(now), days=SCHEDULE_DAYS
    )
    rows = [
        (
            schedule,
            selectors.schedule_availability(
                schedule=schedule, member=member, now=now, bookings=bookings
            ),
        )
        for schedule in schedules
    ]
    context = {"doctor": doctor, "rows": rows, "days": SCHEDULE_DAYS, "member": member}
    template = "appointments/doctor_detail.html"
    if request.htmx:
        template = "appointments/partials/_schedules.html"
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-cache" if member else "no-cache"
    response["Vary"] = "HX-Request, Cookie"
    return response
