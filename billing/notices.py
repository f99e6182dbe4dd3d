"""The in-app messages (站内信) billing's flows send to members, worded for patients."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from appointments.models import Appointment, Schedule
from appointments.notices import describe_visit as _session
from members.models import MessageKind
from members.services import send_message

from .models import Order, Refund


def _ref(appointment: Appointment) -> str:
    return f"appointment:{appointment.pk}"


def booked(appointment: Appointment, order: Order | None) -> None:
    """A free visit is booked at once ("预约成功"); a paid one is only held until it is paid:
    its message says so, with the deadline, and "预约成功" waits for the payment."""
    if order is None:
        title = _("Appointment booked")
        body = _("Your appointment with %(session)s is confirmed.") % {
            "session": _session(appointment)
        }
    else:
        deadline = timezone.localtime(order.expires_at).strftime("%H:%M")
        title = _("Awaiting payment: pay by %(time)s") % {"time": deadline}
        body = _(
            "We are holding %(session)s for you. Please pay ¥%(amount)s before %(time)s, "
            "otherwise the slot is released."
        ) % {"session": _session(appointment), "amount": order.amount, "time": deadline}
    send_message(
        member=appointment.member,
        kind=MessageKind.BOOKED,
        title=title,
        body=body,
        reference=_ref(appointment),
        now=appointment.created_at,
    )


def paid(appointment: Appointment, order: Order) -> None:
    send_message(
        member=appointment.member,
        kind=MessageKind.PAID,
        title=_("Payment received, appointment confirmed"),
        body=_("We received ¥%(amount)s. Your appointment with %(session)s is confirmed.")
        % {"amount": order.amount, "session": _session(appointment)},
        reference=_ref(appointment),
    )


def hold_expired(appointment: Appointment) -> None:
    send_message(
        member=appointment.member,
        kind=MessageKind.CANCELLED,
        title=_("Booking released: not paid in time"),
        body=_(
            "Your booking of %(session)s was not paid in time, so the slot was released. "
            "You can book again if slots are left."
        )
        % {"session": _session(appointment)},
        reference=_ref(appointment),
    )


def cancelled(appointment: Appointment, refund: Decimal) -> None:
    if refund > 0:
        extra = _("¥%(amount)s will be refunded to the account you paid from.") % {"amount": refund}
    else:
        extra = ""
    send_message(
        member=appointment.member,
        kind=MessageKind.CANCELLED,
        title=_("Appointment cancelled"),
        body=(
            _("Your appointment with %(session)s was cancelled.")
            % {"session": _session(appointment)}
            + (" " + extra if extra else "")
        ),
        reference=_ref(appointment),
    )


def refunded(refund: Refund) -> None:
    appointment = refund.order.appointment
    if refund.order.gateway == "counter":
        body = _(
            "¥%(amount)s for your appointment with %(session)s is refunded in cash at the "
            "front desk."
        )
    else:
        body = _(
            "¥%(amount)s for your appointment with %(session)s has been refunded to the "
            "account you paid from. Banks may take a few days to show it."
        )
    send_message(
        member=refund.order.member,
        kind=MessageKind.REFUNDED,
        title=_("Refund completed: ¥%(amount)s") % {"amount": refund.amount},
        body=body % {"amount": refund.amount, "session": _session(appointment)},
        reference=_ref(appointment),
    )


def suspended(
    appointment: Appointment, refund: Decimal, reason: str, alternative: Schedule | None
) -> None:
    parts = [
        _("We are sorry: the session %(session)s is cancelled by the clinic (%(reason)s).")
        % {"session": _session(appointment), "reason": reason}
    ]
    if refund > 0:
        parts.append(
            _("¥%(amount)s will be refunded to the account you paid from.") % {"amount": refund}
        )
    if alternative is not None:
        parts.append(
            _("%(doctor)s has a free slot on %(day)s at %(time)s. You can book it here: %(url)s")
            % {
                "doctor": alternative.doctor.name,
                "day": formats.date_format(alternative.date, "MONTH_DAY_FORMAT"),
                "time": alternative.start_time.strftime("%H:%M"),
                "url": reverse("billing:book", args=[alternative.pk]),
            }
        )
    send_message(
        member=appointment.member,
        kind=MessageKind.SUSPENDED,
        title=_("Session cancelled by the clinic (停诊)"),
        body=" ".join(parts),
        reference=_ref(appointment),
    )
