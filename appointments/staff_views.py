"""Staff console: today's board, check-in, the doctor's queue, the waiting room, scheduling."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medbook import refusals
from medbook.staff import safe_next, staff_required, stash_search, stashed_search
from members.selectors import member_by_phone

from . import exceptions as errors
from . import forms, selectors, services
from .choices import AppointmentStatus, ScheduleStatus
from .models import (
    Appointment,
    Department,
    Doctor,
    Holiday,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(safe_next(request, request.POST.get("next"), default=reverse(default)))


@require_GET
@staff_required("appointments.check_in_appointment")
def today(request: HttpRequest) -> HttpResponse:
    """Every session of today with its patients and their status, by department."""
    departments = Department.objects.filter(is_active=True)
    chosen = request.GET.get("department", "")
    filters = {"doctor__department__code": chosen} if chosen else {}
    return render(
        request,
        "staff/today.html",
        {
            "schedules": selectors.todays_sessions(today=timezone.localdate(), **filters),
            "departments": departments,
            "chosen": chosen,
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.check_in_appointment")
def check_in(request: HttpRequest) -> HttpResponse:
    """Find today's appointment by mobile number (exact, through the blind index) or by
    session and queue number.

    The look-up is posted and kept in the session under a token (medbook.staff.stash_search),
    holding the member found, never the number: no phone number is ever in an address."""
    if request.method == "POST":
        form = forms.CheckInLookupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if data["phone"]:
                member = member_by_phone(data["phone"])
                lookup = {"member": member.pk if member else 0}
            else:
                lookup = {"schedule": data["schedule"].pk, "number": data["number"]}
            token = stash_search(request, kind="check_in", data=lookup)
            return redirect(f"{reverse('staff:check_in')}?{urlencode({'lookup': token})}")
        return render(
            request,
            "staff/check_in.html",
            {"form": form, "found": [], "searched": False},
            status=400,
        )
    lookup = stashed_search(request, kind="check_in", token=request.GET.get("lookup"))
    found: list[Appointment] = []
    if lookup is not None:
        today_appointments = Appointment.objects.filter(
            schedule__date=timezone.localdate(), status__in=selectors.ON_BOARD
        ).select_related("member", "schedule__doctor__department")
        if "member" in lookup:
            found = list(today_appointments.filter(member_id=lookup["member"]))
        else:
            found = list(
                today_appointments.filter(
                    schedule_id=lookup["schedule"], queue_number=lookup["number"]
                )
            )
    initial = {key: lookup[key] for key in ("schedule", "number") if lookup and key in lookup}
    return render(
        request,
        "staff/check_in.html",
        {
            "form": forms.CheckInLookupForm(initial=initial),
            "found": found,
            "searched": lookup is not None,
        },
    )


@require_POST
@staff_required("appointments.check_in_appointment")
def appointment_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("member"), pk=pk)
    try:
        services.check_in_appointment(appointment=appointment)
    except errors.AppointmentError as exc:
        if appointment.status == AppointmentStatus.PENDING_PAYMENT:
            messages.error(request, _("Not paid yet: the patient must pay before checking in."))
        else:
            messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(name)s checked in, number %(number)d.")
            % {"name": appointment.member.name, "number": appointment.queue_number},
        )
    return _back(request, "staff:today")


def _queue_schedule(request: HttpRequest) -> tuple[list[Schedule], Schedule | None]:
    """The sessions whose queue this login runs today, and the one shown: the one asked for,
    else the first not yet over."""
    sessions = selectors.sessions_run_by(user=request.user, today=timezone.localdate())
    wanted = request.GET.get("schedule")
    if wanted:
        chosen = next((s for s in sessions if str(s.pk) == wanted), None)
        if chosen is None:
            raise Http404("not your session")
        return sessions, chosen
    now = timezone.localtime().time()
    current = next((s for s in sessions if s.end_time > now), None)
    return sessions, current or (sessions[-1] if sessions else None)


@require_GET
@staff_required("appointments.run_queue")
def queue(request: HttpRequest) -> HttpResponse:
    """The doctor's day: today's queue in check-in order, call next, complete, no-show; and
    their coming sessions."""
    sessions, schedule = _queue_schedule(request)
    own = Doctor.objects.filter(user=request.user).first()
    context = {
        "sessions": sessions,
        "schedule": schedule,
        "queue": selectors.queue_state(schedule=schedule) if schedule else None,
        "upcoming": selectors.coming_sessions(doctor=own, today=timezone.localdate())
        if own
        else None,
    }
    return render(request, "staff/queue.html", context)


@require_POST
@staff_required("appointments.run_queue")
def call_next(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule.objects.select_related("doctor"), pk=pk)
    if not services.may_run_queue(user=request.user, schedule=schedule):
        raise Http404("not your session")
    called = services.call_next(schedule=schedule, by=request.user)
    if called is None:
        messages.info(request, _("Nobody is waiting."))
    else:
        messages.success(request, _("Calling number %(n)d.") % {"n": called.queue_number})
    return redirect(f"{reverse('staff:queue')}?schedule={schedule.pk}")


@require_POST
@staff_required("appointments.run_queue")
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("schedule__doctor"), pk=pk)
    if not services.may_run_queue(user=request.user, schedule=appointment.schedule):
        raise Http404("not your patient")
    try:
        services.mark_no_show(appointment=appointment, by=request.user)
    except errors.AppointmentError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('staff:queue')}?schedule={appointment.schedule_id}")


@login_not_required
@require_GET
def waiting_room(request: HttpRequest, code: str) -> HttpResponse:
    """The screen in a department's waiting area: the number each doctor is calling. Public,
    no personal data; refreshes itself."""
    department = get_object_or_404(Department, code=code, is_active=True)
    rows = selectors.waiting_room(department=department, today=timezone.localdate())
    context = {"department": department, "rows": rows}
    template = "staff/partials/_waiting_room.html" if request.htmx else "staff/waiting_room.html"
    return render(request, template, context)


@require_GET
@staff_required("appointments.change_schedule")
def schedules(request: HttpRequest) -> HttpResponse:
    start = timezone.localdate()
    with contextlib.suppress(ValueError):  # a bad date in the address shows this week
        start = dt.date.fromisoformat(request.GET.get("from", ""))
    chosen = request.GET.get("department", "")
    rows = (
        Schedule.objects.filter(date__gte=start, date__lt=start + dt.timedelta(days=7))
        .select_related("doctor__department")
        .order_by("date", "doctor__department__sort_order", "doctor__name", "start_time")
    )
    if chosen:
        rows = rows.filter(doctor__department__code=chosen)
    return render(
        request,
        "staff/schedules.html",
        {
            "rows": rows,
            "start": start,
            "previous": start - dt.timedelta(days=7),
            "next": start + dt.timedelta(days=7),
            "departments": Department.objects.filter(is_active=True),
            "chosen": chosen,
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_schedule")
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule.objects.select_related("doctor__department"), pk=pk)
    form = forms.ScheduleForm(request.POST or None, instance=Schedule.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        with refusals.shown(request, form=form) as refusal:
            services.update_schedule(schedule=schedule, changes=changes)
        if not refusal:
            messages.success(request, _("Session saved."))
            return redirect("staff:schedule_edit", pk)
    return render(
        request,
        "staff/schedule_edit.html",
        {"schedule": schedule, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_scheduletemplate", "appointments.generate_schedules")
def templates(request: HttpRequest) -> HttpResponse:
    """Weekly templates, generating sessions from them, holidays and the release rule."""
    action = request.POST.get("action")
    template_form = forms.TemplateForm(request.POST if action == "template" else None)
    generate_form = forms.GenerateForm(request.POST if action == "generate" else None)
    holiday_form = forms.HolidayForm(request.POST if action == "holiday" else None)
    rule_form = forms.ReleaseRuleForm(
        request.POST if action == "rule" else None, instance=ReleaseRule.current()
    )
    if action == "template" and template_form.is_valid():
        template_form.save()
        messages.success(request, _("Template added."))
        return redirect("staff:templates")
    if action == "generate" and generate_form.is_valid():
        department = generate_form.cleaned_data["department"]
        doctors = list(Doctor.objects.filter(department=department)) if department else None
        result = services.generate_schedules(
            start=generate_form.cleaned_data["start"],
            weeks=generate_form.cleaned_data["weeks"],
            doctors=doctors,
        )
        messages.success(
            request,
            _(
                "%(created)d sessions created as drafts; %(existing)d already existed; "
                "%(holidays)d fell on holidays. The release job opens them on time."
            )
            % {"created": result.created, "existing": result.existing, "holidays": result.holidays},
        )
        return redirect("staff:templates")
    if action == "release":
        count = services.release_due_schedules()
        messages.success(request, _("%(n)d sessions released.") % {"n": count})
        return redirect("staff:templates")
    if action == "holiday" and holiday_form.is_valid():
        holiday_form.save()
        messages.success(request, _("Holiday added."))
        return redirect("staff:templates")
    pick_form = forms.PickForm(
        request.POST if action in ("delete_holiday", "delete_template") else None
    )
    if action == "delete_holiday" and pick_form.is_valid():
        Holiday.objects.filter(pk=pick_form.cleaned_data["pk"]).delete()
        return redirect("staff:templates")
    if action == "delete_template" and pick_form.is_valid():
        ScheduleTemplate.objects.filter(pk=pick_form.cleaned_data["pk"]).update(is_active=False)
        messages.success(request, _("Template switched off; sessions already made stay."))
        return redirect("staff:templates")
    if pick_form.errors:
        messages.error(request, _("That item is not on the list. Reload the page and try again."))
    if action == "rule" and rule_form.is_valid():
        rule_form.save()
        messages.success(
            request, _("Release rule saved. It applies to sessions generated from now on.")
        )
        return redirect("staff:templates")
    invalid = any(
        f.errors for f in (template_form, generate_form, holiday_form, rule_form, pick_form)
    )
    chosen = request.GET.get("department", "")
    context = {
        "departments": Department.objects.filter(is_active=True),
        "chosen": chosen,
        "template_form": template_form,
        "generate_form": generate_form,
        "holiday_form": holiday_form,
        "rule_form": rule_form,
        "templates": ScheduleTemplate.objects.filter(
            is_active=True, **({"doctor__department__code": chosen} if chosen else {})
        )
        .select_related("doctor__department")
        .order_by("doctor__department__sort_order", "doctor__name", "weekday", "start_time"),
        "holidays": Holiday.objects.filter(date__gte=timezone.localdate()),
        "drafts": Schedule.objects.filter(
            status=ScheduleStatus.DRAFT, date__gte=timezone.localdate()
        ).count(),
    }
    return render(request, "staff/templates.html", context, status=400 if invalid else 200)


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_doctor")
def doctors(request: HttpRequest) -> HttpResponse:
    """Departments, doctors (with their login) and the fee of each title."""
    action = request.POST.get("action")
    department_form = forms.DepartmentForm(request.POST if action == "department" else None)
    fee_form = forms.TitleFeeForm(
        request.POST if action == "fee" else None,
        instance=TitleFee.objects.filter(title=request.POST.get("title")).first()
        if action == "fee"
        else None,
    )
    if action == "department" and department_form.is_valid():
        department_form.save()
        messages.success(request, _("Department added."))
        return redirect("staff:doctors")
    if action == "fee" and fee_form.is_valid():
        fee_form.save()
        messages.success(request, _("Fee saved."))
        return redirect("staff:doctors")
    invalid = bool(department_form.errors or fee_form.errors)
    return render(
        request,
        "staff/doctors.html",
        {
            "departments": Department.objects.prefetch_related("doctors"),
            "fees": TitleFee.objects.all(),
            "department_form": department_form,
            "fee_form": fee_form,
        },
        status=400 if invalid else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_doctor")
def doctor_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    doctor = get_object_or_404(Doctor, pk=pk) if pk else None
    form = forms.DoctorForm(request.POST or None, instance=doctor)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Doctor saved."))
        return redirect("staff:doctors")
    return render(
        request,
        "staff/form.html",
        {
            "form": form,
            "title": doctor.name if doctor else _("New doctor"),
            "back": reverse("staff:doctors"),
        },
        status=400 if form.errors else 200,
    )
