"""The in-app messages (站内信) billing's flows send to members, worded for patients.

Each is a template with parameters (members.message_templates), rendered in the reader's
language when read.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Schedule
from appointments.notices import describe_visit as _session
from appointments.notices import doctor_name
from members.message_templates import day, snippet
from members.models import MessageKind
from members.services import send_message

from .choices import OrderStatus
from .models import Order, Refund

APPOINTMENT_REFERENCE = "appointment:"  # + the appointment's id: a message about it


def _ref(appointment: Appointment) -> str:
    return f"{APPOINTMENT_REFERENCE}{appointment.pk}"


def _hhmm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def booked(appointment: Appointment, order: Order | None) -> None:
    """A free visit is booked at once ("预约成功"); a paid one is only held until it is paid:
    its message says so, with the deadline, and "预约成功" waits for the payment."""
    send_message(member=appointment.member, **booked_message(appointment, order))


def booked_message(appointment: Appointment, order: Order | None) -> dict:
    """What :func:`booked` sends (kind, template, parameters, reference, time)."""
    params = {"session": _session(appointment)}
    if order is not None:
        params |= {"amount": str(order.amount), "time": _hhmm(order.expires_at)}
    return {
        "kind": MessageKind.BOOKED,
        "template": "booking.confirmed" if order is None else "booking.held",
        "params": params,
        "reference": _ref(appointment),
        "now": appointment.created_at,
    }


def paid(appointment: Appointment, order: Order) -> None:
    send_message(
        member=appointment.member,
        kind=MessageKind.PAID,
        template="booking.paid",
        params={"amount": str(order.amount), "session": _session(appointment)},
        reference=_ref(appointment),
    )


def hold_expired(appointment: Appointment) -> None:
    send_message(
        member=appointment.member,
        kind=MessageKind.CANCELLED,
        template="booking.expired",
        params={"session": _session(appointment)},
        reference=_ref(appointment),
    )


def move_lapsed(appointment: Appointment) -> None:
    """A move to a dearer session whose difference was not paid in time: the held slot is
    released and the booking stays where it was."""
    send_message(
        member=appointment.member,
        kind=MessageKind.CANCELLED,
        template="move.lapsed",
        params={"session": _session(appointment)},
        reference=_ref(appointment),
    )


def cancelled(appointment: Appointment, refund: Decimal) -> None:
    parts = [snippet("cancelled", session=_session(appointment))]
    if refund > 0:
        parts.append(snippet("refund.due", amount=str(refund)))
    send_message(
        member=appointment.member,
        kind=MessageKind.CANCELLED,
        template="booking.cancelled",
        params={"body": parts},
        reference=_ref(appointment),
    )


def refunded(refund: Refund) -> None:
    appointment = refund.order.appointment
    send_message(
        member=refund.order.member,
        kind=MessageKind.REFUNDED,
        template="refund.counter" if refund.order.gateway == "counter" else "refund.online",
        params={"amount": str(refund.amount), "session": _session(appointment)},
        reference=_ref(appointment),
    )


def suspended(
    appointment: Appointment, refund: Decimal, reason: str, alternative: Schedule | None
) -> None:
    parts = [snippet("suspended", session=_session(appointment), reason=reason)]
    if refund > 0:
        parts.append(snippet("refund.due", amount=str(refund)))
    if alternative is not None:
        parts.append(
            snippet(
                "alternative",
                doctor=doctor_name(alternative),
                day=day(alternative.date),
                time=alternative.start_time.strftime("%H:%M"),
                url=reverse("billing:book", args=[alternative.pk]),
            )
        )
    send_message(
        member=appointment.member,
        kind=MessageKind.SUSPENDED,
        template="session.suspended",
        params={"body": parts},
        reference=_ref(appointment),
    )


def move_awaiting_difference(old: Appointment, new: Appointment, *, order: Order) -> None:
    """A move to a dearer session holds the new slot until the difference is paid."""
    send_message(
        member=new.member,
        kind=MessageKind.RESCHEDULED,
        template="move.difference",
        params={
            "old": _session(old),
            "new": _session(new),
            "amount": str(order.amount),
            "time": _hhmm(order.expires_at),
        },
        reference=_ref(new),
        now=new.created_at,
    )


def rescheduled(
    old: Appointment, new: Appointment, *, order: Order | None, refund: Decimal
) -> None:
    """The booking moved (改约): where to, and what it means for the money — nothing to pay
    again, the difference on its way back, or the hold still to pay by its deadline."""
    parts = [snippet("moved", old=_session(old), new=_session(new))]
    if refund > 0:
        parts.append(snippet("moved.cheaper", amount=str(refund)))
    elif order is not None and order.top_up_of_id and order.status != OrderStatus.UNPAID:
        parts.append(snippet("moved.topped_up", amount=str(order.amount)))
    elif order is not None and order.status == OrderStatus.UNPAID:
        parts.append(snippet("moved.pay", amount=str(order.amount), time=_hhmm(order.expires_at)))
    elif order is not None:
        parts.append(snippet("moved.paid"))
    send_message(
        member=new.member,
        kind=MessageKind.RESCHEDULED,
        template="booking.rescheduled",
        params={"body": parts},
        reference=_ref(new),
        now=new.created_at,
    )
