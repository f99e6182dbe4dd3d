"""Public pages: departments and doctors, search, a doctor's sessions with live counts, a
department's sessions by date; a member's release reminders (放号提醒) and waitlist (候补)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from medbook.staff import safe_next
from members.decorators import member_required
from members.patients import patient_for_booking

from . import catalogue_cache, selectors, services
from .forms import CatalogueFilterForm, DateStripForm

SCHEDULE_DAYS = 14
DOCTORS_PER_PAGE = 12


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The department grid with each one's "有号" count and the doctors, a page at a time
    (of one department, only those with open sessions); or, with ``q``, what a search finds."""
    query = request.GET.get("q", "").strip()[:50]
    now = timezone.now()
    if query:
        context = {
            "query": query,
            "departments": selectors.search_departments(query=query, now=now),
            "doctors": selectors.search_doctors(query=query, now=now),
        }
        return render(request, "appointments/search.html", context)
    form = CatalogueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    departments = catalogue_cache.departments_with_open_counts(now=now)
    code = filters.get("department", "")
    doctors = catalogue_cache.catalogue_doctors(
        department=code,
        now=now,
        open_within=selectors.BOOKABLE_DAYS if filters.get("open_only") else None,
    )
    context = {
        "departments": departments,
        "department": next((d for d in departments if d.code == code), None),
        "selected": code,
        "open_only": bool(filters.get("open_only")),
        "days": selectors.BOOKABLE_DAYS,
        "page": Paginator(doctors, DOCTORS_PER_PAGE).get_page(request.GET.get("page")),
    }
    return render(request, "appointments/home.html", context)


@login_not_required
@require_GET
def doctor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor and their next 14 days; an HTMX request gets only the refreshed sessions."""
    doctor = catalogue_cache.public_doctor(pk=pk)
    if doctor is None:
        raise Http404("no such doctor")
    now = timezone.now()
    # The logged-in member (their level may open sessions earlier), or None.
    member = selectors.viewing_member(user=request.user)
    bookings = selectors.member_bookings(member=member, now=now) if member else None
    schedules = catalogue_cache.schedules_for_doctor(
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
    context = {
        "doctor": doctor,
        "rows": rows,
        "days": SCHEDULE_DAYS,
        "member": member,
        "reminded": selectors.reminded_schedule_ids(member=member),
        "waiting": selectors.waiting_schedule_ids(member=member),
    }
    template = "appointments/doctor_detail.html"
    if request.htmx:
        template = "appointments/partials/_schedules.html"
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-cache" if member else "no-cache"
    response["Vary"] = "HX-Request, Cookie"
    return response


@login_not_required
@require_GET
def department_dates(request: HttpRequest, code: str) -> HttpResponse:
    """A department's next 14 days as a strip of dates ("有号" marked); the chosen date lists
    every doctor's sessions of that day with what the visitor can do. A date outside the strip
    is refused (400) with the strip still shown."""
    department = selectors.active_department(code=code)
    if department is None:
        raise Http404("no such department")
    now = timezone.now()
    dates = selectors.strip_dates(now=now)
    form = DateStripForm(request.GET, first=dates[0], last=dates[-1])
    valid = form.is_valid()
    member = selectors.viewing_member(user=request.user)
    strip = selectors.department_date_strip(
        department=department,
        now=now,
        member=member,
        selected=form.cleaned_data.get("date") if valid else None,
    )
    context = {
        "strip": strip,
        "department": department,
        "member": member,
        "form": form,
        "reminded": selectors.reminded_schedule_ids(member=member),
        "waiting": selectors.waiting_schedule_ids(member=member),
        "days": selectors.STRIP_DAYS,
    }
    response = render(
        request, "appointments/department_dates.html", context, status=200 if valid else 400
    )
    response["Cache-Control"] = "private, no-cache" if member else "no-cache"
    response["Vary"] = "Cookie"
    return response


@require_POST
@member_required
def reminder_set(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """ "Remind me when it opens" on a session not yet open to the member; back to the page the
    button was on. A session already open, cancelled or past is refused (409)."""
    schedule = selectors.bookable_schedule(pk=schedule_id)
    if schedule is None:
        raise Http404("no such session")
    services.set_release_reminder(member=request.member, schedule=schedule)
    due_at = selectors.opens_at_for(schedule=schedule, level=request.member.level)
    messages.success(
        request,
        _("We will send you a message and a text at %(time)s, when booking opens for you.")
        % {"time": formats.date_format(timezone.localtime(due_at), "DATETIME_FORMAT")},
    )
    back = reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    return redirect(safe_next(request, request.POST.get("next"), default=back))


@require_GET
@member_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    """The member's release reminders: waiting ones with when each goes out, then the latest
    sent, cancelled or closed ones."""
    waiting, closed = selectors.reminders_for_member(member=request.member)
    return render(
        request,
        "appointments/reminders.html",
        {"waiting": waiting, "closed": closed, "member": request.member},
    )


@require_POST
@member_required
def reminder_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The member cancels one of their waiting reminders (another member's is a 404)."""
    reminder = selectors.reminder_of(member=request.member, pk=pk)
    if reminder is None:
        raise Http404("no such reminder")
    services.cancel_release_reminder(reminder=reminder)
    messages.success(request, _("Reminder cancelled."))
    return redirect("appointments:reminders")


@require_POST
@member_required
def waitlist_join(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """加入候补 on a sold-out session, for the patient the form names (the holder by default);
    with ``whole_day``, for any session of the doctor that day. Refusals (slots free, already
    waiting, not open to the member …) are a 4xx page with the reason."""
    schedule = selectors.bookable_schedule(pk=schedule_id)
    if schedule is None:
        raise Http404("no such session")
    member = request.member
    patient = patient_for_booking(member=member, patient_id=request.POST.get("patient"))
    if request.POST.get("whole_day"):
        services.join_doctor_waitlist(
            member=member,
            doctor=schedule.doctor,
            date_from=schedule.date,
            date_to=schedule.date,
            patient=patient,
        )
    else:
        services.join_waitlist(member=member, schedule=schedule, patient=patient)
    messages.success(
        request,
        _(
            "You are on the waitlist. If a slot is freed, we hold it for you for %(minutes)d "
            "minutes and send you a message and a text."
        )
        % {"minutes": settings.MEDBOOK_WAITLIST_OFFER_MINUTES},
    )
    return redirect("appointments:waitlist")


@require_GET
@member_required
def waitlist_list(request: HttpRequest) -> HttpResponse:
    """我的候补: open places with their position (offers first, with the time they are held
    until), then the latest closed ones."""
    rows, closed = selectors.waitlist_for_member(member=request.member)
    context = {
        "rows": rows,
        "closed": closed,
        "member": request.member,
        "offer_minutes": settings.MEDBOOK_WAITLIST_OFFER_MINUTES,
    }
    return render(request, "appointments/waitlist.html", context)


@require_POST
@member_required
def waitlist_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """The member leaves one of their places (an offer they hold passes on at once); another
    member's is a 404."""
    entry = selectors.waitlist_entry_of(member=request.member, pk=pk)
    if entry is None:
        raise Http404("no such waitlist place")
    services.leave_waitlist(entry=entry)
    messages.success(request, _("You left the waitlist."))
    return redirect("appointments:waitlist")
