"""Reads of billing for member pages: a member's appointments with their orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from appointments import exceptions as errors
from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from appointments.selectors import appointments_for_member, cancel_blocker, cancellation_cutoff
from medbook import money
from members.models import Member, User

from . import sandbox
from .choices import OrderStatus, RefundStatus
from .gateways import GatewayError, get_gateway
from .models import Order
from .services import cancellation_refund


def member_appointments(*, member: Member, upcoming: bool) -> QuerySet[Appointment]:
    """The member's appointments with doctor, department and order in one query."""
    return appointments_for_member(member=member, upcoming=upcoming).select_related("order")


def member_appointment(*, member: Member, pk: int) -> Appointment:
    """One of the member's own appointments; anyone else's is a 404, so ids tell nothing."""
    appointment = (
        Appointment.objects.select_related("schedule__doctor__department", "member__level", "order")
        .filter(pk=pk, member=member)
        .first()
    )
    if appointment is None:
        raise Http404("no such appointment")
    return appointment


def order_of(appointment: Appointment) -> Order | None:
    try:
        return appointment.order
    except Order.DoesNotExist:
        return None


def payable_order(appointment: Appointment, now: dt.datetime) -> Order | None:
    """The order still waiting for this member's money, if any."""
    order = order_of(appointment)
    if (
        order is not None
        and appointment.status == AppointmentStatus.PENDING_PAYMENT
        and order.status == OrderStatus.UNPAID
        and order.expires_at > now
    ):
        return order
    return None


@dataclass(frozen=True)
class CancelTerms:
    """What cancelling means for the member right now, shown before they confirm."""

    blocker: errors.AppointmentError | None
    cutoff: dt.datetime
    late: bool  # past the free cutoff (allowed only with the level's privilege)
    refund: Decimal
    paid: Decimal

    @property
    def allowed(self) -> bool:
        return self.blocker is None


def cancel_terms(*, appointment: Appointment, by: User, now: dt.datetime) -> CancelTerms:
    order = order_of(appointment)
    blocker = cancel_blocker(appointment=appointment, by=by, now=now)
    refund = money.ZERO
    paid = money.ZERO
    if order is not None and order.paid_at is not None:
        paid = order.amount
        if blocker is None:
            refund = cancellation_refund(order=order, appointment=appointment, by=by, now=now)
    cutoff = cancellation_cutoff(appointment.schedule)
    return CancelTerms(blocker=blocker, cutoff=cutoff, late=now >= cutoff, refund=refund, paid=paid)


@dataclass(frozen=True)
class RefundSummary:
    requested: Decimal  # on its way back
    refunded: Decimal  # back on the member's account


def refund_summary(order: Order | None) -> RefundSummary | None:
    if order is None or order.paid_at is None:
        return None
    pending = (
        order.refunds.filter(status=RefundStatus.REQUESTED, stray_trade_no="").aggregate(
            total=Sum("amount")
        )["total"]
        or money.ZERO
    )
    if not pending and not order.refunded_amount:
        return None
    return RefundSummary(requested=pending, refunded=order.refunded_amount)


def hold_seconds_left(order: Order | None, now: dt.datetime | None = None) -> int:
    if order is None:
        return 0
    return max(int((order.expires_at - (now or timezone.now())).total_seconds()), 0)


def checkout_url(order: Order) -> str:
    """Where the member pays ``order``: the configured gateway's cashier page.

    Raises GatewayError when the order's gateway has no web cashier here.
    """
    if order.gateway == "sandbox":
        return sandbox.checkout_url(order)
    gateway = get_gateway(order.gateway)
    pay_page = getattr(gateway, "checkout_url", None)
    if pay_page is None:
        raise GatewayError(f"gateway {order.gateway!r} has no web cashier")
    schedule = order.appointment.schedule
    subject = f"{schedule.doctor.department.name} {schedule.doctor.name} {schedule.date:%m-%d}"
    return pay_page(out_trade_no=order.out_trade_no, amount=order.amount, subject=subject)
