"""Writes of billing: booking with an order, applying a payment, closing expired holds.

Lock order: the order row first, then (through the appointments services) the schedule and the
appointment, so a payment and the expiry job racing for one order never deadlock and exactly
one of them wins.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from members.models import Member

from . import exceptions as errors
from .choices import NotificationOutcome, OrderStatus
from .gateways import InvalidNotification, PaymentGateway
from .models import GatewayNotification, Order

CENT = Decimal("0.01")
EXPIRED_HOLD_REASON = "未在规定时间内支付，号源已释放"


def payable_amount(*, fee: Decimal, discount_rate: Decimal) -> Decimal:
    """Fee times the level's price factor, rounded half up to the cent (CNY)."""
    return (fee * discount_rate).quantize(CENT, rounding=ROUND_HALF_UP)


def new_out_trade_no(now: dt.datetime) -> str:
    """MB + clinic-time timestamp + 10 random digits: unique, sortable, unguessable."""
    return f"MB{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


@transaction.atomic
def place_booking(
    *, member: Member, schedule: Schedule, channel: Channel, now: dt.datetime | None = None
) -> Appointment:
    """Book a slot and, when the session has a fee, open the order that holds it.

    A free session is confirmed at once; a paid one stays pending until paid or until the hold
    (``MEDBOOK_HOLD_MINUTES``) runs out. Raises the booking core's AppointmentError.
    """
    now = now or timezone.now()
    appointment = appointment_services.book_appointment(
        member=member, schedule=schedule, channel=channel, now=now
    )
    if appointment.status == AppointmentStatus.PENDING_PAYMENT:
        rate = appointment.member.level.discount_rate
        Order.objects.create(
            appointment=appointment,
            member=appointment.member,
            out_trade_no=new_out_trade_no(now),
            gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
            original_amount=appointment.fee,
            discount_rate=rate,
            amount=payable_amount(fee=appointment.fee, discount_rate=rate),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
        )
    return appointment


class PaymentOutcome(StrEnum):
    CONFIRMED = "confirmed"  # this payment confirmed the appointment
    ALREADY_APPLIED = "already_applied"  # a repeat of a payment applied before: nothing changed
    REFUND_DUE = "refund_due"  # money for a closed order, or a second payment: it must go back


def confirm_payment(
    *,
    out_trade_no: str,
    gateway_trade_no: str,
    amount: Decimal,
    paid_at: dt.datetime | None = None,
) -> PaymentOutcome:
    """Apply a verified payment to its order exactly once and confirm the appointment.

    Raises UnknownOrder or AmountMismatch (and writes nothing) when the payment does not fit.
    """
    paid_at = paid_at or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise errors.UnknownOrder()
        if amount != order.amount:
            raise errors.AmountMismatch()
        if order.status != OrderStatus.UNPAID:
            if order.gateway_trade_no == gateway_trade_no:
                return PaymentOutcome.ALREADY_APPLIED
            return PaymentOutcome.REFUND_DUE
        if order.appointment.status != AppointmentStatus.PENDING_PAYMENT:
            # Cancelled (by the member or staff) while the payment was on its way.
            order.status = OrderStatus.CLOSED
            order.closed_at = paid_at
            order.save(update_fields=["status", "closed_at"])
            return PaymentOutcome.REFUND_DUE
        order.status = OrderStatus.PAID
        order.paid_at = paid_at
        order.gateway_trade_no = gateway_trade_no
        order.save(update_fields=["status", "paid_at", "gateway_trade_no"])
        appointment_services.confirm_appointment(appointment=order.appointment, now=paid_at)
    return PaymentOutcome.CONFIRMED


def expire_order(*, order_id: int, now: dt.datetime | None = None) -> bool:
    """Close one unpaid order whose hold ran out and free its slot. False if it was not due."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, status=OrderStatus.UNPAID, expires_at__lte=now)
            .first()
        )
        if order is None:
            return False
        order.status = OrderStatus.CLOSED
        order.closed_at = now
        order.save(update_fields=["status", "closed_at"])
        appointment_services.cancel_appointment(
            appointment=order.appointment, by=None, reason=EXPIRED_HOLD_REASON, now=now
        )
    return True


def expire_unpaid_orders(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Close unpaid orders past their hold (the periodic job). Safe to run twice, anywhere."""
    now = now or timezone.now()
    due = (
        Order.objects.filter(status=OrderStatus.UNPAID, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(expire_order(order_id=pk, now=now) for pk in list(due))


_OUTCOME_OF_PAYMENT = {
    PaymentOutcome.CONFIRMED: NotificationOutcome.APPLIED,
    PaymentOutcome.ALREADY_APPLIED: NotificationOutcome.DUPLICATE,
    PaymentOutcome.REFUND_DUE: NotificationOutcome.REFUND_DUE,
}
# Outcomes after which the gateway is told to stop retrying.
ACCEPTED_OUTCOMES = frozenset(_OUTCOME_OF_PAYMENT.values())


def receive_notification(
    *,
    gateway: PaymentGateway,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None = None,
) -> GatewayNotification:
    """Store a gateway's notification raw, verify it, then apply it exactly once.

    The raw row is committed first, so every notification is kept whatever happens next; a
    rejected one (bad signature, wrong amount, unknown order) changes nothing else.
    """
    notification = GatewayNotification.objects.create(
        gateway=gateway.name,
        body=body.decode("utf-8", errors="replace"),
        headers=headers,
        remote_addr=remote_addr,
    )
    fields = ["signature_valid", "out_trade_no", "gateway_trade_no", "outcome", "detail"]
    try:
        notice = gateway.parse_notification(body=body, headers=headers)
    except InvalidNotification as exc:
        notification.outcome = NotificationOutcome.BAD_SIGNATURE
        notification.detail = str(exc)[:200]
        notification.save(update_fields=fields)
        return notification
    notification.signature_valid = True
    notification.out_trade_no = notice.out_trade_no[:64]
    notification.gateway_trade_no = notice.gateway_trade_no[:64]
    try:
        outcome = confirm_payment(
            out_trade_no=notice.out_trade_no,
            gateway_trade_no=notice.gateway_trade_no,
            amount=notice.amount,
            paid_at=notice.paid_at,
        )
        notification.outcome = _OUTCOME_OF_PAYMENT[outcome]
    except errors.AmountMismatch as exc:
        notification.outcome = NotificationOutcome.AMOUNT_MISMATCH
        notification.detail = exc.message
    except errors.UnknownOrder as exc:
        notification.outcome = NotificationOutcome.UNKNOWN_ORDER
        notification.detail = exc.message
    notification.save(update_fields=fields)
    return notification
