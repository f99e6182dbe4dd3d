"""Staff console pages that move money or book: walk-ins, booking and cancelling for a member,
suspending a session (停诊) and completing a visit (points)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments import exceptions as booking_errors
from appointments import selectors as appointment_selectors
from appointments.choices import ScheduleStatus
from appointments.forms import BookForMemberForm
from appointments.models import Appointment, Department, Schedule
from appointments.services import may_run_queue
from medbook import refusals
from medbook.errors import DomainError, Forbidden, Invalid
from medbook.staff import staff_required
from members import services as member_services
from members.models import Member, MemberLevel
from members.selectors import member_by_phone
from members.services import register_member

from . import sandbox, selectors, services
from .exceptions import PaymentError


class WalkInForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Name (new patients)"), max_length=64, required=False)
    schedule = forms.ModelChoiceField(
        label=gettext_lazy("Session"), queryset=Schedule.objects.none()
    )
    extra_number = forms.BooleanField(
        label=gettext_lazy("Add an extra number if the session is full (加号)"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        now = timezone.localtime()
        self.fields["schedule"].queryset = (
            Schedule.objects.filter(
                date=now.date(), status=ScheduleStatus.PUBLISHED, end_time__gt=now.time()
            )
            .select_related("doctor__department")
            .order_by("doctor__department__sort_order", "doctor__name", "start_time")
        )
        self.fields["schedule"].label_from_instance = lambda s: (
            f"{s.doctor.department.name} · {s.doctor.name} · {s.start_time:%H:%M}–"
            f"{s.end_time:%H:%M} · "
            + (_("%(n)d left") % {"n": s.remaining} if s.remaining else _("full"))
        )


@require_http_methods(["GET", "POST"])
@staff_required("appointments.book_for_member")
def walk_in(request: HttpRequest) -> HttpResponse:
    """现场挂号: a patient at the desk, found by number or registered on the spot, into one of
    today's sessions."""
    form = WalkInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = member_by_phone(data["phone"])
        with refusals.shown(request, form=form) as refusal:
            if member is None:
                if not data["name"].strip():
                    raise Invalid(_("New patient: please enter their name."), field="name")
                member = register_member(name=data["name"], phone=data["phone"])
            appointment = services.register_walk_in(
                member=member,
                schedule=data["schedule"],
                by=request.user,
                extra_number=data["extra_number"],
            )
        if not refusal:
            messages.success(
                request,
                _("%(name)s is number %(number)d.")
                % {"name": member.name, "number": appointment.queue_number},
            )
            return redirect("staff:appointment", appointment.pk)
    return render(request, "staff/walk_in.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@staff_required("appointments.check_in_appointment")
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """One appointment as the desk sees it: number, status, payment, actions."""
    item = get_object_or_404(
        Appointment.objects.select_related("member", "schedule__doctor__department"), pk=pk
    )
    order = selectors.order_of(item)
    payable = selectors.payable_order(item, timezone.now())
    return render(
        request,
        "staff/appointment.html",
        {
            "appointment": item,
            "order": order,
            "cashier": sandbox.checkout_url(payable)
            if payable and payable.gateway == "sandbox"
            else "",
            "refunds": selectors.refund_summary(order),
        },
    )


@require_POST
@staff_required("appointments.book_for_member")
def book_for_member(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=member_pk)
    form = BookForMemberForm(request.POST)
    if not form.is_valid():
        message = " ".join(text for errors in form.errors.values() for text in errors)
        return render(request, "400.html", {"message": message}, status=400)
    try:
        booked = services.book_for_member(
            member=member,
            schedule=form.cleaned_data["schedule"],
            by=request.user,
            override_reason=form.cleaned_data["override_reason"],
        )
    except booking_errors.AppointmentError as exc:
        messages.error(request, exc.message)
        return redirect("staff:member", member.pk)
    messages.success(request, _("Booked: number %(n)d.") % {"n": booked.queue_number})
    return redirect("staff:appointment", booked.pk)


@require_POST
@staff_required("billing.take_counter_payment")
def counter_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient paid at the desk: the order is paid and the appointment confirmed."""
    item = get_object_or_404(Appointment.objects.select_related("order"), pk=pk)
    order = selectors.order_of(item)
    if order is None:
        raise Http404("no order")
    try:
        services.pay_at_counter(order=order, by=request.user)
    except PaymentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("¥%(amount)s received at the desk; confirmed.") % {"amount": order.amount}
        )
    return redirect("staff:appointment", pk)


@require_POST
@staff_required("appointments.cancel_any_appointment")
def cancel_for_member(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Appointment, pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Please give the reason for cancelling."))
        return redirect("staff:appointment", pk)
    try:
        done = services.cancel_booking(appointment=item, by=request.user, reason=reason)
    except booking_errors.AppointmentError as exc:
        messages.error(request, exc.message)
    else:
        if done.refund_requested:
            messages.success(
                request,
                _("Cancelled; ¥%(amount)s is being refunded.") % {"amount": done.refund_requested},
            )
        else:
            messages.success(request, _("Cancelled."))
    return redirect("staff:appointment", pk)


@require_POST
@staff_required("appointments.suspend_schedule")
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Please give the reason for suspending the session."))
        return redirect("staff:schedule_edit", pk)
    try:
        result = services.suspend_schedule(schedule=schedule, by=request.user, reason=reason)
    except booking_errors.AppointmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Session suspended. %(n)d appointments cancelled, ¥%(amount)s being refunded; "
                "every patient has been told."
            )
            % {"n": result.cancelled, "amount": result.refunded},
        )
    return redirect("staff:schedule_edit", pk)


@require_POST
@staff_required("appointments.run_queue")
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Appointment.objects.select_related("schedule__doctor"), pk=pk)
    if not may_run_queue(user=request.user, schedule=item.schedule):
        raise Http404("not your patient")
    try:
        services.complete_visit(appointment=item)
    except booking_errors.AppointmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Number %(n)d completed.") % {"n": item.queue_number})
    return redirect(f"{reverse('staff:queue')}?schedule={item.schedule_id}")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class PointsForm(ReasonForm):
    field_order = ["delta", "reason"]
    delta = forms.IntegerField(label=gettext_lazy("Points (+ or −)"))


class LevelForm(ReasonForm):
    field_order = ["level", "reason"]
    level = forms.ModelChoiceField(
        label=gettext_lazy("New level"), queryset=MemberLevel.objects.all()
    )


@require_http_methods(["GET", "POST"])
@staff_required("members.view_member")
def member(request: HttpRequest, pk: int) -> HttpResponse:
    """A member as staff see them (personal data masked) with what staff may do for them."""
    item = get_object_or_404(Member.objects.select_related("level", "user"), pk=pk)
    action = request.POST.get("action")
    unmasked = None
    forms_ = {
        "unmask": ReasonForm(request.POST if action == "unmask" else None, prefix="unmask"),
        "points": PointsForm(request.POST if action == "points" else None, prefix="points"),
        "level": LevelForm(request.POST if action == "level" else None, prefix="level"),
        "ban": ReasonForm(request.POST if action == "ban" else None, prefix="ban"),
    }
    form = forms_.get(action or "")
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "unmask":
                unmasked = member_services.unmask_personal_data(
                    member=item, by=request.user, reason=data["reason"], request=request
                )
            elif action == "points":
                member_services.adjust_points(
                    member=item,
                    delta=data["delta"],
                    note=data["reason"],
                    by=request.user,
                    request=request,
                )
                messages.success(request, _("Points adjusted."))
            elif action == "level":
                member_services.change_level(
                    member=item,
                    level=data["level"],
                    by=request.user,
                    reason=data["reason"],
                    request=request,
                )
                messages.success(request, _("Level changed."))
            elif action == "ban":
                member_services.lift_ban(
                    member=item, by=request.user, reason=data["reason"], request=request
                )
                messages.success(request, _("The member can book online again."))
        except Forbidden as exc:
            messages.error(request, exc.message)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if action != "unmask":
                return redirect("staff:member", pk)
    department_code = request.GET.get("department", "")
    sessions = []
    if department_code:
        now = timezone.now()
        sessions = (
            appointment_selectors.open_schedules(now)
            .filter(doctor__department__code=department_code)
            .select_related("doctor")
            .order_by("date", "start_time")[:40]
        )
    context = {
        "member": item,
        "unmasked": unmasked,
        "forms": forms_,
        "appointments": item.appointments.select_related("schedule__doctor__department").order_by(
            "-schedule__date", "-schedule__start_time"
        )[:20],
        "ledger": item.points_entries.all()[:20],
        "banned": item.is_banned(timezone.now()),
        "departments": Department.objects.filter(is_active=True),
        "department_code": department_code,
        "sessions": sessions,
        "today": timezone.localdate(),
        "soon": timezone.localdate() + dt.timedelta(days=14),
    }
    invalid = form is not None and bool(form.errors)
    return render(request, "staff/member.html", context, status=400 if invalid else 200)
