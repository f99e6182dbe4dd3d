"""Staff console: today's board, check-in, the doctor's queue, the waiting room, scheduling."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medbook import refusals
from medbook.staff import safe_next, staff_required, stash_search, stashed_search
from members.selectors import member_by_phone

from . import forms, selectors, services
from .models import Schedule


def _back(request: HttpRequest, default: str) -> HttpResponse:
    return redirect(safe_next(request, request.POST.get("next"), default=reverse(default)))


@require_GET
@staff_required("appointments.check_in_appointment")
def today(request: HttpRequest) -> HttpResponse:
    """Every session of today with its patients and their status, by department."""
    chosen = request.GET.get("department", "")
    return render(
        request,
        "staff/today.html",
        {
            "board": selectors.todays_board(
                today=timezone.localdate(), user=request.user, department=chosen
            ),
            "departments": selectors.active_departments(),
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
    found: list[selectors.StaffRow] = []
    if lookup is not None:
        found = selectors.check_in_matches(
            today=timezone.localdate(),
            user=request.user,
            member_id=lookup.get("member"),
            schedule_id=lookup.get("schedule"),
            number=lookup.get("number"),
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
    appointment = selectors.appointment_for_staff(pk=pk)
    if appointment is None:
        raise Http404("no such appointment")
    with refusals.shown(request) as refusal:
        services.check_in_patient(appointment=appointment, now=timezone.now())
    if not refusal:
        messages.success(
            request,
            _("%(name)s checked in, number %(number)d.")
            % {"name": appointment.member.name, "number": appointment.queue_number},
        )
    return _back(request, "staff:today")


def _queue_schedule(
    request: HttpRequest, now: dt.datetime
) -> tuple[list[Schedule], Schedule | None]:
    """The sessions whose queue this login runs today, and the one shown: the one asked for,
    else the first not yet over."""
    sessions = selectors.sessions_run_by(user=request.user, today=timezone.localdate(now))
    wanted = request.GET.get("schedule")
    if wanted:
        chosen = next((s for s in sessions if str(s.pk) == wanted), None)
        if chosen is None:
            raise Http404("not your session")
        return sessions, chosen
    time_now = timezone.localtime(now).time()
    current = next((s for s in sessions if s.end_time > time_now), None)
    return sessions, current or (sessions[-1] if sessions else None)


@require_GET
@staff_required("appointments.run_queue")
def queue(request: HttpRequest) -> HttpResponse:
    """The doctor's day: today's queue in check-in order, call next, complete, no-show; and
    their coming sessions."""
    now = timezone.now()
    sessions, schedule = _queue_schedule(request, now)
    own = selectors.doctor_of(user=request.user)
    context = {
        "sessions": sessions,
        "schedule": schedule,
        "queue": selectors.queue_state(schedule=schedule) if schedule else None,
        "upcoming": selectors.coming_sessions(doctor=own, today=timezone.localdate(now))
        if own
        else None,
    }
    return render(request, "staff/queue.html", context)


@require_POST
@staff_required("appointments.run_queue")
def call_next(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = selectors.queue_session(user=request.user, pk=pk)
    if schedule is None:
        raise Http404("not your session")
    called = services.call_next(schedule=schedule, by=request.user, now=timezone.now())
    if called is None:
        messages.info(request, _("Nobody is waiting."))
    else:
        messages.success(request, _("Calling number %(n)d.") % {"n": called.queue_number})
    return redirect(f"{reverse('staff:queue')}?schedule={schedule.pk}")


@require_POST
@staff_required("appointments.run_queue")
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.queue_appointment(user=request.user, pk=pk)
    if appointment is None:
        raise Http404("not your patient")
    with refusals.shown(request):
        services.mark_no_show(appointment=appointment, by=request.user, now=timezone.now())
    return redirect(f"{reverse('staff:queue')}?schedule={appointment.schedule_id}")


@login_not_required
@require_GET
def waiting_room(request: HttpRequest, code: str) -> HttpResponse:
    """The screen in a department's waiting area: the number each doctor is calling. Public,
    no personal data; refreshes itself."""
    department = selectors.active_department(code=code)
    if department is None:
        raise Http404("no such department")
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
    return render(
        request,
        "staff/schedules.html",
        {
            "rows": selectors.sessions_of_week(start=start, department=chosen),
            "start": start,
            "previous": start - dt.timedelta(days=7),
            "next": start + dt.timedelta(days=7),
            "departments": selectors.active_departments(),
            "chosen": chosen,
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_schedule")
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = selectors.schedule_for_staff(pk=pk)
    if schedule is None:
        raise Http404("no such session")
    # The form gets its own copy: a refused edit must not show on the page's heading.
    form = forms.ScheduleForm(request.POST or None, instance=selectors.schedule_for_staff(pk=pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        with refusals.shown(request, form=form) as refusal:
            services.change_schedule(schedule=schedule, by=request.user, changes=changes)
        if not refusal:
            messages.success(request, _("Session saved."))
            return redirect("staff:schedule_edit", pk)
    return render(
        request,
        "staff/schedule_edit.html",
        {
            "schedule": schedule,
            "actions": selectors.schedule_actions(schedule=schedule, user=request.user),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


# -- weekly templates, building and releasing sessions, holidays, the release rule ---------------


@dataclass
class _TemplatesPage:
    """The forms of the templates page; only the one the posted action names is bound."""

    template: forms.TemplateForm
    generate: forms.GenerateForm
    holiday: forms.HolidayForm
    rule: forms.ReleaseRuleForm
    pick: forms.PickForm

    @classmethod
    def from_request(cls, request: HttpRequest, action: str | None) -> _TemplatesPage:
        def posted(*actions: str) -> object:
            return request.POST if action in actions else None

        return cls(
            template=forms.TemplateForm(posted("template")),
            generate=forms.GenerateForm(posted("generate")),
            holiday=forms.HolidayForm(posted("holiday")),
            rule=forms.ReleaseRuleForm(posted("rule"), instance=selectors.release_rule()),
            pick=forms.PickForm(posted("delete_holiday", "delete_template")),
        )

    @property
    def invalid(self) -> bool:
        return any(
            f.errors for f in (self.template, self.generate, self.holiday, self.rule, self.pick)
        )


def _add_template(request: HttpRequest, page: _TemplatesPage) -> bool:
    if not page.template.is_valid():
        return False
    with refusals.shown(request, form=page.template) as refusal:
        services.add_schedule_template(by=request.user, fields=page.template.cleaned_data)
    if not refusal:
        messages.success(request, _("Template added."))
    return not refusal


def _build_sessions(request: HttpRequest, page: _TemplatesPage) -> bool:
    if not page.generate.is_valid():
        return False
    data = page.generate.cleaned_data
    with refusals.shown(request, form=page.generate) as refusal:
        result = services.build_sessions(
            by=request.user,
            start=data["start"],
            weeks=data["weeks"],
            department=data["department"],
            now=timezone.now(),
        )
    if refusal:
        return False
    messages.success(
        request,
        _(
            "%(created)d sessions created as drafts; %(existing)d already existed; "
            "%(holidays)d fell on holidays. The release job opens them on time."
        )
        % {"created": result.created, "existing": result.existing, "holidays": result.holidays},
    )
    return True


def _release(request: HttpRequest, page: _TemplatesPage) -> bool:
    with refusals.shown(request) as refusal:
        count = services.release_now(by=request.user, now=timezone.now())
    if not refusal:
        messages.success(request, _("%(n)d sessions released.") % {"n": count})
    return True


def _add_holiday(request: HttpRequest, page: _TemplatesPage) -> bool:
    if not page.holiday.is_valid():
        return False
    with refusals.shown(request, form=page.holiday) as refusal:
        services.add_holiday(by=request.user, **page.holiday.cleaned_data)
    if not refusal:
        messages.success(request, _("Holiday added."))
    return not refusal


def _picked(request: HttpRequest, page: _TemplatesPage) -> int | None:
    if page.pick.is_valid():
        return page.pick.cleaned_data["pk"]
    messages.error(request, _("That item is not on the list. Reload the page and try again."))
    return None


def _remove_holiday(request: HttpRequest, page: _TemplatesPage) -> bool:
    pk = _picked(request, page)
    if pk is None:
        return False
    services.remove_holiday(by=request.user, pk=pk)
    return True


def _deactivate_template(request: HttpRequest, page: _TemplatesPage) -> bool:
    pk = _picked(request, page)
    if pk is None:
        return False
    services.deactivate_schedule_template(by=request.user, pk=pk)
    messages.success(request, _("Template switched off; sessions already made stay."))
    return True


def _change_rule(request: HttpRequest, page: _TemplatesPage) -> bool:
    if not page.rule.is_valid():
        return False
    with refusals.shown(request, form=page.rule) as refusal:
        services.change_release_rule(by=request.user, **page.rule.cleaned_data)
    if not refusal:
        messages.success(
            request, _("Release rule saved. It applies to sessions generated from now on.")
        )
    return not refusal


# Posted action → handler: True when done (the page is shown again, fresh), False when its form
# (now with errors) is shown back.
_TEMPLATE_ACTIONS: dict[str, Callable[[HttpRequest, _TemplatesPage], bool]] = {
    "template": _add_template,
    "generate": _build_sessions,
    "release": _release,
    "holiday": _add_holiday,
    "delete_holiday": _remove_holiday,
    "delete_template": _deactivate_template,
    "rule": _change_rule,
}


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_scheduletemplate", "appointments.generate_schedules")
def templates(request: HttpRequest) -> HttpResponse:
    """Weekly templates, generating sessions from them, holidays and the release rule."""
    action = request.POST.get("action")
    page = _TemplatesPage.from_request(request, action)
    handler = _TEMPLATE_ACTIONS.get(action or "")
    if handler is not None and handler(request, page):
        return redirect("staff:templates")
    day = timezone.localdate()
    chosen = request.GET.get("department", "")
    context = {
        "departments": selectors.active_departments(),
        "chosen": chosen,
        "template_form": page.template,
        "generate_form": page.generate,
        "holiday_form": page.holiday,
        "rule_form": page.rule,
        "templates": selectors.active_templates(department=chosen),
        "holidays": selectors.holidays_from(day=day),
        "drafts": selectors.drafts_waiting(today=day),
    }
    return render(request, "staff/templates.html", context, status=400 if page.invalid else 200)


# -- departments, doctors and fees by title --------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_doctor")
def doctors(request: HttpRequest) -> HttpResponse:
    """Departments, doctors (with their login) and the fee of each title."""
    action = request.POST.get("action")
    department_form = forms.DepartmentForm(request.POST if action == "department" else None)
    fee_form = forms.TitleFeeForm(
        request.POST if action == "fee" else None,
        instance=selectors.title_fee(title=request.POST.get("title")) if action == "fee" else None,
    )
    if action == "department" and department_form.is_valid():
        with refusals.shown(request, form=department_form) as refusal:
            services.add_department(by=request.user, fields=department_form.cleaned_data)
        if not refusal:
            messages.success(request, _("Department added."))
            return redirect("staff:doctors")
    if action == "fee" and fee_form.is_valid():
        with refusals.shown(request, form=fee_form) as refusal:
            services.set_title_fee(by=request.user, **fee_form.cleaned_data)
        if not refusal:
            messages.success(request, _("Fee saved."))
            return redirect("staff:doctors")
    invalid = bool(department_form.errors or fee_form.errors)
    return render(
        request,
        "staff/doctors.html",
        {
            "departments": selectors.departments_for_staff(),
            "fees": selectors.title_fees(),
            "department_form": department_form,
            "fee_form": fee_form,
        },
        status=400 if invalid else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.change_doctor")
def doctor_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    doctor = selectors.doctor_for_staff(pk=pk) if pk else None
    if pk and doctor is None:
        raise Http404("no such doctor")
    form = forms.DoctorForm(request.POST or None, instance=doctor)
    if request.method == "POST" and form.is_valid():
        with refusals.shown(request, form=form) as refusal:
            if doctor is None:
                services.add_doctor(by=request.user, fields=form.cleaned_data)
            else:
                services.change_doctor(doctor=doctor, by=request.user, fields=form.cleaned_data)
        if not refusal:
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
