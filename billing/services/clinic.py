"""The clinic day's flows that move money: suspending a session (停诊) and booking at the desk."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import exceptions as booking_errors
from appointments import selectors as appointment_selectors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel, ScheduleStatus
from appointments.models import Appointment, Schedule
from medbook import audit, money
from medbook.errors import Invalid
from members import selectors as member_selectors
from members import services as member_services
from members.models import Member, Patient, User

from .. import exceptions as errors
from .. import hooks, notices
from ..choices import Gateway, OrderStatus
from ..models import Order
from .orders import cancel_booking, place_booking
from .payments import PaymentOutcome, confirm_payment

logger = logging.getLogger(__name__)

__all__ = [
    "Suspension",
    "book_for_member",
    "pay_at_counter",
    "register_walk_in",
    "register_walk_in_patient",
    "suspend_schedule",
]


@dataclass(frozen=True)
class Suspension:
    cancelled: int
    refunded: Decimal


def suspend_schedule(
    *, schedule: Schedule, by: User, reason: str, now: dt.datetime | None = None
) -> Suspension:
    """停诊: close the session, then cancel and refund every active appointment and tell each
    member, offering the same doctor's (or a same-department, same-title doctor's) next free
    session.

    The session is closed first in its own transaction, so no booking slips in; each
    appointment is then cancelled in its own transaction in the usual lock order. Running this
    again, or twice at once, cancels and refunds nothing twice: it only finishes what is left.
    """
    if not by.has_perm("appointments.suspend_schedule"):
        raise booking_errors.NotAllowed()
    reason = reason.strip()
    if not reason:
        raise Invalid(_("Please give the reason for suspending the session."), field="reason")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.status == ScheduleStatus.FINISHED:
            raise booking_errors.ScheduleInPast()
        if locked.status != ScheduleStatus.SUSPENDED:
            locked.status = ScheduleStatus.SUSPENDED
            locked.suspended_reason = reason[:200]
            locked.save(update_fields=["status", "suspended_reason", "updated_at"])
            audit.record(actor=by, action="schedule.suspend", target=locked, reason=reason)
            appointment_services.close_waitlist_of_schedule(schedule=locked, now=now)
            hooks.schedule_suspended(locked, now=now)
    alternative = appointment_selectors.alternative_schedule(schedule=locked, now=now)
    cancelled, refunded = 0, money.ZERO
    active = Appointment.objects.filter(
        schedule=locked,
        status__in=[
            AppointmentStatus.PENDING_PAYMENT,
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CHECKED_IN,
        ],
    ).order_by("pk")
    for appointment in active:
        try:
            with transaction.atomic():
                done = cancel_booking(
                    appointment=appointment,
                    by=None,
                    reason=f"停诊：{locked.suspended_reason}",
                    now=now,
                    notify=False,
                )
                notices.suspended(done, done.refund_requested, locked.suspended_reason, alternative)
        except booking_errors.NotCancellable:
            continue  # a concurrent run (or the member) got there first
        cancelled += 1
        refunded += done.refund_requested
    return Suspension(cancelled=cancelled, refunded=refunded)


def book_for_member(
    *,
    member: Member,
    schedule: Schedule,
    by: User,
    channel: Channel = Channel.FRONT_DESK,
    override_reason: str = "",
    now: dt.datetime | None = None,
    patient: Patient | None = None,
) -> Appointment:
    """The front desk books for a member's patient (the holder when None; phone call or at the
    counter): the account's own rules apply unless staff with the permission give a reason."""
    if not by.has_perm("appointments.book_for_member"):
        raise booking_errors.NotAllowed()
    with transaction.atomic():
        appointment = place_booking(
            member=member,
            schedule=schedule,
            channel=channel,
            now=now,
            by=by,
            override_reason=override_reason,
            patient=patient,
        )
        audit.record(
            actor=by,
            action="appointment.book_for_member",
            target=appointment,
            reason=override_reason,
            detail={"override": bool(override_reason.strip())},
        )
    return appointment


def pay_at_counter(*, order: Order, by: User, now: dt.datetime | None = None) -> Order:
    """The patient paid at the front desk (cash or card terminal): the order is paid through
    the counter and the appointment confirmed, exactly as an online payment would. Refunds of
    it are handed back at the desk."""
    if not by.has_perm("billing.take_counter_payment"):
        raise booking_errors.NotAllowed()
    now = now or timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.UNPAID or locked.expires_at <= now:
            raise errors.NotPayable()
        locked.gateway = Gateway.COUNTER
        locked.save(update_fields=["gateway"])
        outcome = confirm_payment(
            out_trade_no=locked.out_trade_no,
            gateway_trade_no=f"CTR{locked.out_trade_no[2:]}",
            amount=locked.amount,
            paid_at=now,
        )
        if outcome != PaymentOutcome.CONFIRMED:
            # A move's difference whose booking was cancelled meanwhile: nothing to take.
            raise errors.NotPayable()
        audit.record(
            actor=by,
            action="billing.counter_payment",
            target=locked,
            detail={"amount": str(locked.amount)},
        )
    locked.refresh_from_db()
    return locked


def register_walk_in(
    *,
    member: Member,
    schedule: Schedule,
    by: User,
    extra_number: bool = False,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
) -> Appointment:
    """A patient at the desk without an appointment (现场挂号), into a free slot of today's
    session, or — when the session is full and the doctor allows it — as an extra number (加号).
    Walk-ins are not bound by the opening time or the level's cap: they are here."""
    if not by.has_perm("appointments.book_for_member"):
        raise booking_errors.NotAllowed()
    with transaction.atomic():
        if extra_number:
            locked = (
                Schedule.objects.select_for_update().select_related("doctor").get(pk=schedule.pk)
            )
            if not locked.doctor.allows_extra_numbers:
                raise booking_errors.ExtraNumbersNotAllowed()
            if locked.remaining == 0:
                appointment_services.update_schedule(
                    schedule=locked, changes={"capacity": locked.capacity + 1}
                )
        return place_booking(
            member=member,
            schedule=schedule,
            channel=Channel.WALK_IN,
            now=now,
            by=by,
            walk_in=True,
            patient=patient,
        )


def register_walk_in_patient(
    *,
    phone: str,
    name: str,
    schedule: Schedule,
    by: User,
    extra_number: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """现场挂号 for the person at the desk: the member with ``phone``, or a new member registered
    on the spot (``name`` needed then), booked as :func:`register_walk_in` does, in one
    transaction: a refused booking registers nobody."""
    with transaction.atomic():
        member = member_selectors.member_by_phone(phone)
        if member is None:
            if not (name or "").strip():
                raise Invalid(_("New patient: please enter their name."), field="name")
            member = member_services.register_member(name=name, phone=phone, now=now)
        return register_walk_in(
            member=member, schedule=schedule, by=by, extra_number=extra_number, now=now
        )
