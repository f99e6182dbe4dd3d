"""Staff console: today's board, check-in, the doctor's queue, the waiting room, scheduling."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
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


def _board_filters(request: HttpRequest) -> tuple[forms.BoardFilterForm, selectors.BoardFilters]:
    """The board's filters from the address (unknown values are ignored, never a 500) and the
    search kept in the session under ``?search=<token>``."""
    form = forms.BoardFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    department, doctor = data.get("department"), data.get("doctor")
    filters = selectors.BoardFilters(
        department=department.code if department else "",
        doctor=doctor.pk if doctor else None,
        session=data.get("session", ""),
        status=data.get("status", ""),
    )
    kept = stashed_search(request, kind="board", token=request.GET.get("search"))
    return form, filters.with_search(kept)


def _without_search(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("search", None)
    return query.urlencode()


def _board_page(
    request: HttpRequest,
    *,
    check_in_form: forms.QuickCheckInForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today_date = timezone.localdate()
    filter_form, filters = _board_filters(request)
    kept = stashed_search(request, kind="board", token=request.GET.get("search"))
    context = {
        "board": selectors.todays_board(today=today_date, user=request.user, filters=filters),
        "totals": selectors.board_totals(today=today_date, filters=filters),
        "filter_form": filter_form,
        "search_form": forms.BoardSearchForm(initial={"q": (kept or {}).get("shown", "")}),
        "searched": (kept or {}).get("shown", ""),
        "check_in_form": check_in_form or forms.QuickCheckInForm(),
        "board_query": request.GET.urlencode(),
        "filter_query": _without_search(request),
    }
    if request.headers.get("HX-Request") == "true" and check_in_form is None:
        return render(request, "staff/partials/_board_body.html", context, status=status)
    return render(request, "staff/today.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required("appointments.check_in_appointment")
def today(request: HttpRequest) -> HttpResponse:
    """Today's board: totals, filters and a search, every session with its patients; the body
    is polled (HTMX, every 10 s). A search is posted and kept in the session under a token,
    so no phone or ID number is ever in an address."""
    if request.method == "POST":
        form = forms.BoardSearchForm(request.POST)
        if not form.is_valid():
            return _board_page(request, status=400)
        query = request.GET.copy()
        query.pop("search", None)  # a new search replaces the one kept
        search = selectors.BoardFilters.search_from_query(form.cleaned_data["q"])
        if search:
            query["search"] = stash_search(request, kind="board", data=search)
        suffix = f"?{query.urlencode()}" if query else ""
        return redirect(f"{reverse('staff:today')}{suffix}")
    return _board_page(request)


@require_POST
@staff_required("appointments.check_in_appointment")
def board_check_in(request: HttpRequest) -> HttpResponse:
    """Keyboard check-in from the board: a queue number (and the session when that number is
    in more than one of today's sessions), Enter. Back to the board as it was filtered."""
    form = forms.QuickCheckInForm(request.POST)
    if not form.is_valid():
        return _board_page(request, check_in_form=form, status=400)
    number, schedule = form.cleaned_data["number"], form.cleaned_data["schedule"]
    found = selectors.to_check_in_by_number(
        today=timezone.localdate(),
        number=number,
        schedule_id=schedule.pk if schedule else None,
        filters=_board_filters(request)[1],
    )
    if not found:
        form.add_error(
            "number", _("Nobody with number %(n)d is waiting to check in today.") % {"n": number}
        )
        return _board_page(request, check_in_form=form, status=404)
    if len(found) > 1:
        form.add_error(
            "schedule",
            _("Number %(n)d is in %(count)d sessions today: choose the session.")
            % {"n": number, "count": len(found)},
        )
        return _board_page(request, check_in_form=form, status=400)
    appointment = found[0]
    with refusals.shown(request, form=form) as refusal:
        services.check_in_patient(appointment=appointment, now=timezone.now())
    if refusal:
        return _board_page(request, check_in_form=form, status=refusal.status)
    messages.success(
        request,
        _("%(name)s checked in, number %(number)d.")
        % {"name": appointment.member.name, "number": appointment.queue_number},
    )
    query = request.GET.urlencode()
    return redirect(f"{reverse('staff:today')}{'?' + query if query else ''}")


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
    """The doctor's day: today's queue, call next, 重呼, 过号, complete with a note, 未到诊 (when
    the rule allows it); the waiting count and the average consultation today; and their
    coming sessions."""
    now = timezone.now()
    sessions, schedule = _queue_schedule(request, now)
    own = selectors.doctor_of(user=request.user)
    context = {
        "sessions": sessions,
        "schedule": schedule,
        "queue": selectors.queue_view(schedule=schedule, now=now) if schedule else None,
        "upcoming": selectors.coming_sessions(doctor=own, today=timezone.localdate(now))
        if own
        else None,
    }
    return render(request, "staff/queue.html", context)


def _to_queue(schedule_id: int) -> HttpResponse:
    return redirect(f"{reverse('staff:queue')}?schedule={schedule_id}")


@require_POST
@staff_required("appointments.run_queue")
def call_next(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = selectors.queue_session(user=request.user, pk=pk)
    if schedule is None:
        raise Http404("not your session")
    with refusals.shown(request) as refusal:
        called = services.call_next(schedule=schedule, by=request.user, now=timezone.now())
    if not refusal and called is None:
        messages.info(request, _("Nobody is waiting."))
    elif not refusal:
        messages.success(request, _("Calling number %(n)d.") % {"n": called.queue_number})
    return _to_queue(schedule.pk)


def _on_patient(
    request: HttpRequest, pk: int, act: Callable[..., Any], said: Callable[[Any], str]
) -> HttpResponse:
    """A doctor's action on one of their own patients (another's is a 404): the service's
    refusal is shown, else ``said`` of what the service returned; back to the queue."""
    appointment = selectors.queue_appointment(user=request.user, pk=pk)
    if appointment is None:
        raise Http404("not your patient")
    with refusals.shown(request) as refusal:
        done = act(appointment=appointment, by=request.user, now=timezone.now())
    if not refusal:
        messages.success(request, said(done or appointment))
    return _to_queue(appointment.schedule_id)


@require_POST
@staff_required("appointments.run_queue")
def recall(request: HttpRequest, pk: int) -> HttpResponse:
    """重呼: call the patient being called once more."""
    return _on_patient(
        request,
        pk,
        services.recall_patient,
        lambda called: (
            _("Calling number %(n)d again (call %(count)d).")
            % {"n": called.queue_number, "count": called.call_count}
        ),
    )


@require_POST
@staff_required("appointments.run_queue")
def skip(request: HttpRequest, pk: int) -> HttpResponse:
    """过号: the patient called goes back into the queue."""
    return _on_patient(
        request,
        pk,
        services.skip_patient,
        lambda skipped: (
            _("Number %(n)d skipped; they are number %(place)d in the queue now.")
            % {"n": skipped.queue_number, "place": skipped.queue_place}
        ),
    )


@require_POST
@staff_required("appointments.run_queue")
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _on_patient(
        request,
        pk,
        services.mark_no_show,
        lambda missed: _("Number %(n)d marked as not come.") % {"n": missed.queue_number},
    )


def _display(request: HttpRequest, code: str | None, *, as_json: bool = False) -> HttpResponse:
    department = None
    if code is not None:
        department = selectors.active_department(code=code)
        if department is None:
            raise Http404("no such department")
    state = selectors.display_state(department=department, now=timezone.now())
    if as_json:
        response = JsonResponse(state, json_dumps_params={"ensure_ascii": False})
        response["Cache-Control"] = "no-store"
        return response
    context = {
        "department": department,
        "state": state,
        "state_url": reverse("waiting_room_state", args=[code])
        if code
        else reverse("waiting_clinic_state"),
    }
    return render(request, "staff/waiting_room.html", context)


@login_not_required
@require_GET
def waiting_room(request: HttpRequest, code: str) -> HttpResponse:
    """The TV screen in a department's waiting area (full screen, no navigation): the number
    each room calls, masked names, the next ones, the clock; it speaks each call. Public."""
    return _display(request, code)


@login_not_required
@require_GET
def waiting_clinic(request: HttpRequest) -> HttpResponse:
    """The clinic's screen: every department's rooms on one TV."""
    return _display(request, None)


@login_not_required
@require_GET
def waiting_room_state(request: HttpRequest, code: str) -> HttpResponse:
    """What a department's screen shows, as JSON (masked names only); it polls this."""
    return _display(request, code, as_json=True)


@login_not_required
@require_GET
def waiting_clinic_state(request: HttpRequest) -> HttpResponse:
    return _display(request, None, as_json=True)


@require_GET
@staff_required("appointments.check_in_appointment")
def displays(request: HttpRequest) -> HttpResponse:
    """The waiting-room screens' addresses, to open on each department's TV."""
    return render(request, "staff/displays.html", {"departments": selectors.active_departments()})


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
def department_edit(request: HttpRequest, code: str) -> HttpResponse:
    """A department's names, the short names patients search for, place, order, active."""
    department = selectors.department_for_staff(code=code)
    if department is None:
        raise Http404("no such department")
    form = forms.DepartmentEditForm(request.POST or None, instance=department)
    if request.method == "POST" and form.is_valid():
        with refusals.shown(request, form=form) as refusal:
            services.change_department(
                department=department, by=request.user, fields=form.cleaned_data
            )
        if not refusal:
            messages.success(request, _("Department saved."))
            return redirect("staff:doctors")
    return render(
        request,
        "staff/form.html",
        {"form": form, "title": department.name, "back": reverse("staff:doctors")},
        status=400 if form.errors else 200,
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
            move_login = form.cleaned_data["move_login"]
            if doctor is None:
                services.add_doctor(
                    by=request.user, fields=form.doctor_fields(), move_login=move_login
                )
            else:
                services.change_doctor(
                    doctor=doctor,
                    by=request.user,
                    fields=form.doctor_fields(),
                    move_login=move_login,
                )
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
