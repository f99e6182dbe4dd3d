"""改约: the member moves a booking to another session from its page; the staff console's
action (billing.staff_views) uses the same steps."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from appointments import exceptions as errors
from appointments.models import Appointment
from medbook import throttle
from medbook.errors import DomainError, Invalid
from members.decorators import member_required
from members.models import User

from .. import exceptions as payment_errors
from .. import reschedule_selectors, selectors, services
from ..choices import OrderStatus
from ..forms import RescheduleForm


def move_booking(
    form: RescheduleForm, *, appointment: Appointment, by: User, now: dt.datetime
) -> tuple[services.RescheduleOutcome | None, DomainError | None]:
    """Move ``appointment`` where ``form`` says, for ``by``: the outcome, or the refusal (and
    then nothing is written). A member moving into a session they could not cancel online
    any more must have ticked that they know it."""
    if not form.is_valid():
        return None, Invalid(_("Please choose the new session."), field="schedule")
    data = form.cleaned_data
    schedule, refusal = reschedule_selectors.chosen_target(
        appointment=appointment, pk=data["schedule"], by=by
    )
    if refusal is not None:
        return None, refusal
    own = by.pk == appointment.member.user_id
    if (
        own
        and not data["accept_late"]
        and selectors.not_cancellable_online(schedule=schedule, member=appointment.member, now=now)
    ):
        return None, errors.LateBookingUnconfirmed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS)
    try:
        outcome = services.reschedule_booking(
            appointment=appointment, schedule=schedule, by=by, reason=data["reason"], now=now
        )
    except DomainError as exc:
        return None, exc
    return outcome, None


def moved_message(outcome: services.RescheduleOutcome) -> str:
    """What the page says once the booking moved: the money in one sentence."""
    new = outcome.new
    if outcome.awaiting_difference:
        return _(
            "Number %(n)d of the new session is held for you. Pay the difference of "
            "¥%(amount)s by %(time)s to complete the move; until then your appointment stays "
            "as it is."
        ) % {
            "n": new.queue_number,
            "amount": outcome.order.amount,
            "time": timezone.localtime(outcome.order.expires_at).strftime("%H:%M"),
        }
    if outcome.refund > 0:
        return _(
            "Moved to number %(n)d. ¥%(amount)s is on its way back to the account you paid from."
        ) % {"n": new.queue_number, "amount": outcome.refund}
    if outcome.order is not None and outcome.order.status == OrderStatus.UNPAID:
        return _("Moved to number %(n)d. Please pay ¥%(amount)s by %(time)s.") % {
            "n": new.queue_number,
            "amount": outcome.order.amount,
            "time": timezone.localtime(outcome.order.expires_at).strftime("%H:%M"),
        }
    return _("Moved to number %(n)d. There is nothing more to pay.") % {"n": new.queue_number}


@require_http_methods(["GET", "POST"])
@member_required
def appointment_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    """The sessions the booking can move to, each with what it means for the money, and the
    move itself; a refusal is said on the page (4xx) and changes nothing."""
    appointment = selectors.member_appointment(member=request.member, pk=pk)
    now = timezone.now()
    error = None
    chosen = None
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        chosen = request.POST.get("schedule", "")
        if not throttle.allow(
            scope="book-member",
            who=str(request.member.pk),
            rate=settings.MEDBOOK_BOOKING_RATE_MEMBER,
        ):
            # A move takes a slot as a booking does: the member's booking attempts count it.
            outcome, error = None, payment_errors.TooManyAttempts()
        else:
            outcome, error = move_booking(form, appointment=appointment, by=request.user, now=now)
        if outcome is not None:
            messages.success(request, moved_message(outcome))
            return redirect("billing:appointment_detail", outcome.new.pk)
    page = reschedule_selectors.reschedule_page(appointment=appointment, by=request.user, now=now)
    return render(
        request,
        "billing/appointment_reschedule.html",
        {
            "appointment": appointment,
            "schedule": appointment.schedule,
            "page": page,
            "error": error,
            "chosen": chosen,
            "late_unconfirmed": isinstance(error, errors.LateBookingUnconfirmed),
            "cutoff_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
            "hold_minutes": settings.MEDBOOK_HOLD_MINUTES,
        },
        status=error.status if error is not None else 200,
    )
