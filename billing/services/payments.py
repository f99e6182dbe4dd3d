"""Payments: a verified payment applied to its order exactly once, the gateways' notifications
stored raw and then applied, and orders closed unpaid checked with their gateway."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus
from medbook import metrics

from .. import exceptions as errors
from .. import hooks, notices
from ..choices import Gateway, NotificationOutcome, OrderStatus
from ..gateways import (
    GatewayError,
    IgnoredNotification,
    InvalidNotification,
    PaymentGateway,
    get_gateway,
)
from ..models import GatewayNotification, Order
from .gateway_choice import offered_gateways
from .orders import close_expired
from .refunds import return_stray_payment
from .reschedule import finish_top_up

__all__ = [
    "ACCEPTED_OUTCOMES",
    "NOTIFICATION_HEADERS",
    "PaymentOutcome",
    "check_closed_orders_with_gateways",
    "confirm_payment",
    "kept_headers",
    "receive_notification",
    "stored_body",
]


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
    now: dt.datetime | None = None,
    gateway: str | None = None,
) -> PaymentOutcome:
    """Apply a verified payment to its order exactly once and confirm the appointment.

    A payment that reaches MedBook (``now``: by default when it was paid) after the order's
    hold expired closes the hold and is refunded. ``gateway``: the gateway that took the money
    (None: the order's); after the member switched gateways (gateway_choice) it may be the one
    left behind, which becomes the order's, so refunds go back the way the money came. Raises
    UnknownOrder or AmountMismatch (and writes nothing) when the payment does not fit.
    """
    paid_at = paid_at or timezone.now()
    now = now or paid_at
    with transaction.atomic():
        tops_up = (
            Order.objects.filter(out_trade_no=out_trade_no)
            .values_list("top_up_of_id", flat=True)
            .first()
        )
        if tops_up is not None:
            # A top-up: the order it tops up first (the lock order of moves and cancellations).
            Order.objects.select_for_update().filter(pk=tops_up).first()
        order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise errors.UnknownOrder()
        if amount != order.amount:
            raise errors.AmountMismatch()
        if order.status != OrderStatus.UNPAID:
            if order.gateway_trade_no == gateway_trade_no:
                return PaymentOutcome.ALREADY_APPLIED
            return PaymentOutcome.REFUND_DUE
        if order.expires_at <= now:
            # The hold ran out before MedBook learnt of the payment: the slot is no longer the
            # member's (another booking may have taken it), so the hold closes and the money
            # goes back, whether or not the expiry job has run yet.
            close_expired(order=order, now=now)
            return PaymentOutcome.REFUND_DUE
        if order.appointment.status != AppointmentStatus.PENDING_PAYMENT:
            # Cancelled (by the member or staff) while the payment was on its way.
            order.status = OrderStatus.CLOSED
            order.closed_at = paid_at
            order.save(update_fields=["status", "closed_at"])
            return PaymentOutcome.REFUND_DUE
        if order.top_up_of_id is not None and not finish_top_up(order=order, now=paid_at):
            # The difference of a move whose booking was cancelled meanwhile: it goes back.
            return PaymentOutcome.REFUND_DUE
        order.status = OrderStatus.PAID
        order.paid_at = paid_at
        order.gateway_trade_no = gateway_trade_no
        fields = ["status", "paid_at", "gateway_trade_no"]
        if gateway is not None and gateway != order.gateway:
            order.gateway = gateway  # paid through the gateway the member switched away from
            fields.append("gateway")
        order.save(update_fields=fields)
        if order.top_up_of_id is None:
            appointment = appointment_services.confirm_appointment(
                appointment=order.appointment, now=paid_at
            )
            notices.paid(appointment, order)
        hooks.payment_succeeded(order, now=now)
    return PaymentOutcome.CONFIRMED


_OUTCOME_OF_PAYMENT = {
    PaymentOutcome.CONFIRMED: NotificationOutcome.APPLIED,
    PaymentOutcome.ALREADY_APPLIED: NotificationOutcome.DUPLICATE,
    PaymentOutcome.REFUND_DUE: NotificationOutcome.REFUND_DUE,
}
# Outcomes after which the gateway is told to stop retrying.
ACCEPTED_OUTCOMES = frozenset([*_OUTCOME_OF_PAYMENT.values(), NotificationOutcome.IGNORED])


# What a notification's row keeps of its request's headers (lower case).
NOTIFICATION_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "request-id",
        "x-sandbox-signature",
        "wechatpay-signature",
        "wechatpay-signature-type",
        "wechatpay-timestamp",
        "wechatpay-nonce",
        "wechatpay-serial",
    }
)


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: value[:1024]
        for name, value in headers.items()
        if name.lower() in NOTIFICATION_HEADERS
    }


def stored_body(body: bytes) -> tuple[str, str]:
    """The body as stored: its text when it is UTF-8 without NUL or other control characters
    (but tab and line breaks), else base64 of the exact bytes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return text, "text"
    return base64.b64encode(body).decode("ascii"), "base64"


def receive_notification(
    *,
    gateway: PaymentGateway,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None = None,
    now: dt.datetime | None = None,
) -> GatewayNotification:
    """Store a gateway's notification raw, verify it, then apply it exactly once (counted by
    gateway and outcome for /metrics)."""
    notification = _receive_notification(
        gateway=gateway, body=body, headers=headers, remote_addr=remote_addr, now=now
    )
    metrics.PAYMENT_NOTICES.labels(gateway.name, notification.outcome or "-").inc()
    return notification


def _receive_notification(
    *,
    gateway: PaymentGateway,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None,
    now: dt.datetime | None,
) -> GatewayNotification:
    """Store a gateway's notification raw, verify it, then apply it exactly once.

    The raw row is committed first, so every notification is kept whatever happens next; a
    rejected one (bad signature, wrong amount, unknown order) changes nothing else. Only the
    headers a gateway signs with are kept (never cookies or credentials), and a body that is
    not plain text is kept exactly, base64-encoded.
    """
    headers = kept_headers(headers)
    text, encoding = stored_body(body)
    notification = GatewayNotification.objects.create(
        gateway=gateway.name,
        body=text,
        body_encoding=encoding,
        headers=headers,
        remote_addr=remote_addr,
    )
    fields = ["signature_valid", "out_trade_no", "gateway_trade_no", "outcome", "detail"]
    try:
        notice = gateway.parse_notification(body=body, headers=headers)
    except IgnoredNotification as exc:
        notification.signature_valid = True
        notification.outcome = NotificationOutcome.IGNORED
        notification.detail = str(exc)[:200]
        notification.save(update_fields=fields)
        return notification
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
            now=now or timezone.now(),
            gateway=gateway.name,
        )
        notification.outcome = _OUTCOME_OF_PAYMENT[outcome]
        if outcome == PaymentOutcome.REFUND_DUE:
            return_stray_payment(notice=notice, gateway=gateway.name)
    except errors.AmountMismatch as exc:
        notification.outcome = NotificationOutcome.AMOUNT_MISMATCH
        notification.detail = exc.message
    except errors.UnknownOrder as exc:
        notification.outcome = NotificationOutcome.UNKNOWN_ORDER
        notification.detail = exc.message
    notification.save(update_fields=fields)
    return notification


CHECK_CLOSED_AFTER = dt.timedelta(minutes=2)  # a notice on its way has arrived by then
CHECK_CLOSED_WITHIN = dt.timedelta(days=2)


def check_closed_orders_with_gateways(*, now: dt.datetime, limit: int = 200) -> int:
    """Ask the gateway about each order closed unpaid (once, a little after it closed): money
    it took for one, whose notice never reached MedBook, is returned. Returns how many orders
    were checked; one the gateway cannot answer for now is asked again next time."""
    due = Order.objects.filter(
        status=OrderStatus.CLOSED,
        gateway_checked_at__isnull=True,
        closed_at__lte=now - CHECK_CLOSED_AFTER,
        closed_at__gte=now - CHECK_CLOSED_WITHIN,
    ).exclude(gateway=Gateway.COUNTER)
    checked = 0
    for order in due.order_by("closed_at")[:limit]:
        # Every gateway the member could have paid it through (they may have switched).
        if not all(_check_closed(order, name, now) for name in offered_gateways(order)):
            continue
        Order.objects.filter(pk=order.pk).update(gateway_checked_at=now)
        checked += 1
    return checked


def _check_closed(order: Order, name: str, now: dt.datetime) -> bool:
    """Ask gateway ``name`` about the closed ``order``; money it took is returned. False when
    it cannot answer now (or is not set up here any more)."""
    gateway = get_gateway(name)
    if gateway is None or name == Gateway.COUNTER:
        return name == Gateway.COUNTER
    try:
        notice = gateway.query_payment(out_trade_no=order.out_trade_no)
    except GatewayError:
        return False
    if notice is not None:
        outcome = confirm_payment(
            out_trade_no=notice.out_trade_no,
            gateway_trade_no=notice.gateway_trade_no,
            amount=notice.amount,
            paid_at=notice.paid_at,
            now=now,
            gateway=name,
        )
        if outcome == PaymentOutcome.REFUND_DUE:
            return_stray_payment(notice=notice, gateway=name)
    return True
