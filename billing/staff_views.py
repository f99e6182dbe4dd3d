"""Staff console pages that move money or book: walk-ins, booking and cancelling for a member,
suspending a session (停诊) and completing a visit (points)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.forms import BookForMemberForm
from medbook import refusals
from medbook.errors import DomainError, Forbidden
from medbook.staff import safe_next, staff_required
from members import services as member_services
from members.models import Member
from members.patients import patient_for_booking

from . import reschedule_selectors, selectors, services
from .forms import LevelForm, PointsForm, ReasonForm, RescheduleForm, WalkInForm
from .views.reschedule import move_booking, moved_message


@require_http_methods(["GET", "POST"])
@staff_required("appointments.book_for_member")
def walk_in(request: HttpRequest) -> HttpResponse:
    """现场挂号: a patient at the desk, found by number or registered on the spot, into one of
    today's sessions."""
    now = timezone.now()
    form = WalkInForm(request.POST or None, now=now)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusals.shown(request, form=form) as refusal:
            appointment = services.register_walk_in_patient(
                phone=data["phone"],
                name=data["name"],
                schedule=data["schedule"],
                by=request.user,
                extra_number=data["extra_number"],
                now=now,
            )
        if not refusal:
            messages.success(
                request,
                _("%(name)s is number %(number)d.")
                % {"name": appointment.member.name, "number": appointment.queue_number},
            )
            return redirect("staff:appointment", appointment.pk)
    return render(request, "staff/walk_in.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@staff_required("appointments.check_in_appointment")
def appointment(request: HttpRequest, pk: int) -> HttpResponse:
    """One appointment as the desk sees it: number, status, payment, actions."""
    item = selectors.staff_appointment(pk=pk)
    now = timezone.now()
    view = selectors.staff_appointment_view(appointment=item, user=request.user, now=now)
    return render(
        request,
        "staff/appointment.html",
        {
            "moves": reschedule_selectors.reschedule_links(
                appointment=item, by=request.user, now=now
            ),
            "appointment": item,
            "order": view.order,
            "cashier": view.cashier,
            "refunds": view.refunds,
            "actions": view.actions,
            "can_take_counter_payment": view.can_take_counter_payment,
            "pay_by": view.pay_by,
        },
    )


@require_POST
@staff_required("appointments.book_for_member")
def book_for_member(request: HttpRequest, member_pk: int) -> HttpResponse:
    member = selectors.staff_member(pk=member_pk)
    form = BookForMemberForm(request.POST)
    if not form.is_valid():
        message = " ".join(text for errors in form.errors.values() for text in errors)
        return render(request, "400.html", {"message": message}, status=400)
    now = timezone.now()
    with refusals.shown(request) as refusal:
        patient = patient_for_booking(member=member, patient_id=form.cleaned_data["patient"])
        booked = services.book_for_member(
            member=member,
            schedule=form.cleaned_data["schedule"],
            by=request.user,
            override_reason=form.cleaned_data["override_reason"],
            patient=patient,
            now=now,
        )
    if refusal:
        return redirect("staff:member", member.pk)
    # The appointment page shows what is due, by when, and the button to take it.
    messages.success(request, _("Booked: number %(n)d.") % {"n": booked.queue_number})
    return redirect("staff:appointment", booked.pk)


@require_POST
@staff_required("billing.take_counter_payment")
def counter_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient paid at the desk: the order is paid and the appointment confirmed. Back to
    the page the button was on (the appointment, or the list of unpaid holds)."""
    order = selectors.counter_order(appointment_pk=pk)
    with refusals.shown(request) as refusal:
        services.pay_at_counter(order=order, by=request.user, now=timezone.now())
    if not refusal:
        messages.success(
            request,
            _("¥%(amount)s received at the desk; number %(n)d is confirmed.")
            % {"amount": order.amount, "n": order.appointment.queue_number},
        )
    default = reverse("staff:appointment", args=[pk])
    return redirect(safe_next(request, request.POST.get("next"), default=default))


@require_GET
@staff_required("billing.take_counter_payment")
def unpaid_holds(request: HttpRequest) -> HttpResponse:
    """待收费: the desk's bookings still waiting for their money, with the deadline and a pay
    button each, so none of them expires unnoticed."""
    now = timezone.now()
    return render(
        request,
        "staff/unpaid_holds.html",
        {"orders": selectors.unpaid_desk_holds(now=now), "today": timezone.localdate(now)},
    )


@require_POST
@staff_required("appointments.cancel_any_appointment")
def cancel_for_member(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.staff_appointment(pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Please give the reason for cancelling."))
        return redirect("staff:appointment", pk)
    with refusals.shown(request) as refusal:
        done = services.cancel_booking(
            appointment=item, by=request.user, reason=reason, now=timezone.now()
        )
    if not refusal:
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
    schedule = selectors.staff_schedule(pk=pk)
    with refusals.shown(request) as refusal:  # a missing reason too
        result = services.suspend_schedule(
            schedule=schedule,
            by=request.user,
            reason=request.POST.get("reason", ""),
            now=timezone.now(),
        )
    if not refusal:
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
    item = selectors.queue_appointment(pk=pk, user=request.user)
    with refusals.shown(request) as refusal:
        services.complete_visit(
            appointment=item,
            by=request.user,
            now=timezone.now(),
            note=request.POST.get("note", ""),  # the doctor's short visit note (optional)
        )
    if not refusal:
        messages.success(request, _("Number %(n)d completed.") % {"n": item.queue_number})
    return redirect(f"{reverse('staff:queue')}?schedule={item.schedule_id}")


@require_http_methods(["GET", "POST"])
@staff_required("members.view_member")
def member(request: HttpRequest, pk: int) -> HttpResponse:
    """A member as staff see them (personal data masked) with what staff may do for them."""
    item = selectors.staff_member(pk=pk)
    now = timezone.now()
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
        try:
            unmasked = _act_for_member(request, member=item, action=action, data=form.cleaned_data)
        except Forbidden as exc:  # this login may not: said on the page, not on the form
            messages.error(request, exc.message)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if action != "unmask":
                return redirect("staff:member", pk)
    department_code = request.GET.get("department", "")
    page = selectors.staff_member_page(member=item, department_code=department_code, now=now)
    context = {
        "member": item,
        "unmasked": unmasked,
        "forms": forms_,
        "appointments": page.appointments,
        "patients": page.patients,
        "ledger": page.ledger,
        "banned": page.banned,
        "departments": page.departments,
        "department_code": department_code,
        "sessions": page.sessions,
        "today": page.today,
        "soon": page.soon,
    }
    invalid = form is not None and bool(form.errors)
    return render(request, "staff/member.html", context, status=400 if invalid else 200)


def _act_for_member(
    request: HttpRequest, *, member: Member, action: str, data: dict
) -> dict[str, str] | None:
    """One of the member page's actions through its members service; what unmasking shows."""
    user = request.user
    if action == "unmask":
        return member_services.unmask_personal_data(
            member=member, by=user, reason=data["reason"], request=request
        )
    if action == "points":
        member_services.adjust_points(
            member=member, delta=data["delta"], note=data["reason"], by=user, request=request
        )
        messages.success(request, _("Points adjusted."))
    elif action == "level":
        member_services.change_level(
            member=member, level=data["level"], by=user, reason=data["reason"], request=request
        )
        messages.success(request, _("Level changed."))
    elif action == "ban":
        member_services.lift_ban(member=member, by=user, reason=data["reason"], request=request)
        messages.success(request, _("The member can book online again."))
    return None


@require_http_methods(["GET", "POST"])
@staff_required("appointments.reschedule_for_member")
def reschedule_for_member(request: HttpRequest, pk: int) -> HttpResponse:
    """改约 for a member (a call, a 停诊): any session of the department, past the member's own
    limits, with the reason, which is logged; the member is told."""
    item = selectors.staff_appointment(pk=pk)
    now = timezone.now()
    error = None
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        outcome, error = move_booking(form, appointment=item, by=request.user, now=now)
        if outcome is not None:
            messages.success(request, moved_message(outcome))
            return redirect("staff:appointment", outcome.new.pk)
    page = reschedule_selectors.reschedule_page(appointment=item, by=request.user, now=now)
    return render(
        request,
        "staff/appointment_reschedule.html",
        {
            "appointment": item,
            "page": page,
            "error": error,
            "chosen": request.POST.get("schedule", ""),
            "reason": request.POST.get("reason", ""),
        },
        status=error.status if error is not None else 200,
    )
