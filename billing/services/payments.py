"""Writes of billing: booking with an order, applying payments and notifications, closing
expired holds, refunds, cancellation with settlement of the order, and completing visits with
their points.

Lock order: the order row first, then (through the appointments services) the schedule and the
appointment, then the member; so a payment, the expiry job, a cancellation and a refund racing
for one order never deadlock and exactly one of them decides. Gateway calls happen outside any
transaction, in jobs enqueued on commit.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from appointments import exceptions as appointment_errors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from medbook import audit, money, outbox
from members import services as member_services
from members.models import Member, Message, MessageKind, PointsReason, User

from .. import exceptions as errors
from .. import notices
from ..choices import Gateway, NotificationOutcome, OrderStatus, RefundStatus
from ..gateways import (
    GatewayError,
    IgnoredNotification,
    InvalidNotification,
    PaymentGateway,
    PaymentNotice,
    get_gateway,
)
from ..models import GatewayNotification, Order, Refund

REFUND_TASK = "billing.tasks.carry_out_refund"
EXPIRED_HOLD_REASON = "未在规定时间内支付，号源已释放"


def new_out_trade_no(now: dt.datetime) -> str:
    """MB + clinic-time timestamp + 10 random digits: unique, sortable, unguessable."""
    return f"MB{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def place_booking(
    *,
    member: Member,
    schedule: Schedule,
    channel: Channel,
    now: dt.datetime | None = None,
    by: User | None = None,
    override_reason: str = "",
    walk_in: bool = False,
) -> Appointment:
    """Book a slot and, when the session has a fee, open the order that holds it.

    A free session is confirmed at once; a paid one stays pending until paid or until the hold
    (``MEDBOOK_HOLD_MINUTES``) runs out. A hold stops holding its slot the moment it runs out:
    when the session looks full, expired holds are closed here and the booking tried again,
    whether or not the expiry job has run. Raises the booking core's AppointmentError.
    """
    now = now or timezone.now()
    booking = {
        "member": member,
        "schedule": schedule,
        "channel": channel,
        "now": now,
        "by": by,
        "override_reason": override_reason,
        "walk_in": walk_in,
    }
    try:
        return _place_booking(**booking)
    except appointment_errors.SoldOutHint:
        raise  # the hint never outlives the session's earliest hold
    except (appointment_errors.SoldOut, appointment_errors.AlreadyBooked):
        # Full, or held by this member: an expired hold may be what stands in the way.
        if not expire_holds_of_schedule(schedule_id=schedule.pk, now=now):
            raise
    return _place_booking(**booking)


@transaction.atomic
def _place_booking(
    *,
    member: Member,
    schedule: Schedule,
    channel: Channel,
    now: dt.datetime,
    by: User | None,
    override_reason: str,
    walk_in: bool,
) -> Appointment:
    appointment = appointment_services.book_appointment(
        member=member,
        schedule=schedule,
        channel=channel,
        now=now,
        by=by,
        override_reason=override_reason,
        walk_in=walk_in,
    )
    order = None
    if appointment.status == AppointmentStatus.PENDING_PAYMENT:
        rate = appointment.member.level.discount_rate
        order = Order.objects.create(
            appointment=appointment,
            member=appointment.member,
            out_trade_no=new_out_trade_no(now),
            gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
            original_amount=appointment.fee,
            discount_rate=rate,
            amount=money.payable(fee=appointment.fee, discount_rate=rate),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
        )
    notices.booked(appointment, order)
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
    now: dt.datetime | None = None,
) -> PaymentOutcome:
    """Apply a verified payment to its order exactly once and confirm the appointment.

    A payment that reaches MedBook (``now``: by default when it was paid) after the order's
    hold expired closes the hold and is refunded. Raises UnknownOrder or AmountMismatch (and
    writes nothing) when the payment does not fit.
    """
    paid_at = paid_at or timezone.now()
    now = now or paid_at
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
        if order.expires_at <= now:
            # The hold ran out before MedBook learnt of the payment: the slot is no longer the
            # member's (another booking may have taken it), so the hold closes and the money
            # goes back, whether or not the expiry job has run yet.
            _close_expired(order=order, now=now)
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
        appointment = appointment_services.confirm_appointment(
            appointment=order.appointment, now=paid_at
        )
        notices.paid(appointment, order)
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
        _close_expired(order=order, now=now)
    return True


def _close_expired(*, order: Order, now: dt.datetime) -> None:
    """Close an unpaid order whose hold ran out (locked by the caller) and free its slot."""
    order.status = OrderStatus.CLOSED
    order.closed_at = now
    order.save(update_fields=["status", "closed_at"])
    appointment = appointment_services.cancel_appointment(
        appointment=order.appointment, by=None, reason=EXPIRED_HOLD_REASON, now=now
    )
    notices.hold_expired(appointment)


def expire_holds_of_schedule(*, schedule_id: int, now: dt.datetime) -> int:
    """Close the expired holds of one schedule at once (a booking found it full). Returns how
    many slots that freed."""
    due = Order.objects.filter(
        appointment__schedule_id=schedule_id, status=OrderStatus.UNPAID, expires_at__lte=now
    ).values_list("pk", flat=True)
    return sum(expire_order(order_id=pk, now=now) for pk in list(due))


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
            now=timezone.now(),
        )
        notification.outcome = _OUTCOME_OF_PAYMENT[outcome]
        if outcome == PaymentOutcome.REFUND_DUE:
            return_stray_payment(notice=notice)
    except errors.AmountMismatch as exc:
        notification.outcome = NotificationOutcome.AMOUNT_MISMATCH
        notification.detail = exc.message
    except errors.UnknownOrder as exc:
        notification.outcome = NotificationOutcome.UNKNOWN_ORDER
        notification.detail = exc.message
    notification.save(update_fields=fields)
    return notification


# -- refunds -------------------------------------------------------------------------------------

REFUNDABLE_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDING)


def _pending_refunds(order: Order) -> Decimal:
    pending = order.refunds.filter(status=RefundStatus.REQUESTED, stray_trade_no="")
    return pending.aggregate(total=Sum("amount"))["total"] or money.ZERO


def _enqueue_refund(refund: Refund) -> None:
    outbox.enqueue(REFUND_TASK, refund.pk)


def request_refund(
    *, order: Order, reason: str, by: User | None = None, amount: Decimal | None = None
) -> Refund:
    """Ask for (part of) an order's payment back; the gateway call happens after commit.

    Without ``amount`` the whole remainder is refunded. Requested and completed refunds together
    never exceed what was paid: the order row is locked while this is checked.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in REFUNDABLE_STATUSES:
            raise errors.NotRefundable()
        available = order.amount - order.refunded_amount - _pending_refunds(order)
        amount = available if amount is None else amount
        if available <= 0:
            raise errors.NotRefundable()
        if amount <= 0 or amount > available:
            raise errors.RefundTooLarge(available)
        refund = Refund.objects.create(
            order=order,
            out_refund_no=f"RF{order.out_trade_no[2:]}{order.refunds.count() + 1:02d}",
            amount=amount,
            reason=reason[:200],
            requested_by=by,
        )
        order.status = OrderStatus.REFUNDING
        order.save(update_fields=["status"])
        if by is not None:
            audit.record(
                actor=by,
                action="billing.refund",
                target=order,
                reason=reason,
                detail={"amount": str(amount), "refund": refund.out_refund_no},
            )
        _enqueue_refund(refund)
    return refund


def return_stray_payment(*, notice: PaymentNotice) -> Refund:
    """Send back a payment the order could not take (paid after closing, or paid twice). Once."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(out_trade_no=notice.out_trade_no)
        existing = order.refunds.filter(stray_trade_no=notice.gateway_trade_no).first()
        if existing is not None:
            return existing
        refund = Refund.objects.create(
            order=order,
            out_refund_no=f"RS{order.out_trade_no[2:]}{order.refunds.count() + 1:02d}",
            amount=notice.amount,
            reason="订单已关闭或已支付，退回重复/逾期付款",
            stray_trade_no=notice.gateway_trade_no,
        )
        _enqueue_refund(refund)
    return refund


def carry_out_refund(*, refund_id: int) -> bool:
    """Call the gateway (outside any transaction), then record the result. Safe to repeat."""
    refund = Refund.objects.select_related("order").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return True
    Refund.objects.filter(pk=refund.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now()
    )
    gateway = get_gateway(refund.order.gateway)
    if gateway is None:
        raise GatewayError(f"gateway {refund.order.gateway!r} is not available")
    try:
        refund_no = gateway.refund(
            out_trade_no=refund.order.out_trade_no,
            gateway_trade_no=refund.stray_trade_no or refund.order.gateway_trade_no or "",
            out_refund_no=refund.out_refund_no,
            amount=refund.amount,
            total=refund.amount if refund.stray_trade_no else refund.order.amount,
        )
    except GatewayError as exc:
        Refund.objects.filter(pk=refund.pk).update(last_error=str(exc)[:200])
        raise
    complete_refund(refund_id=refund.pk, gateway_refund_no=refund_no)
    return True


def complete_refund(*, refund_id: int, gateway_refund_no: str) -> None:
    """Record a refund the gateway carried out and move the order's totals with it. Once."""
    with transaction.atomic():
        order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.REQUESTED:
            return
        refund.status = RefundStatus.SUCCEEDED
        refund.gateway_refund_no = gateway_refund_no
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "gateway_refund_no", "completed_at"])
        if refund.stray_trade_no:
            return  # the order never took that money: its own totals stay as they are
        notices.refunded(refund)
        order.refunded_amount += refund.amount
        if order.refunded_amount == order.amount:
            order.status = OrderStatus.REFUNDED
        elif _pending_refunds(order) > 0:
            order.status = OrderStatus.REFUNDING
        else:
            order.status = OrderStatus.PARTIALLY_REFUNDED
        order.save(update_fields=["refunded_amount", "status"])


STUCK_REFUND_AFTER = dt.timedelta(minutes=1)  # never tried: its job was lost
RETRY_REFUND_AFTER = dt.timedelta(minutes=5)  # tried, not done: try again


def stuck_refunds(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Refunds still requested whose job should have carried them out by now."""
    never_tried = Q(last_attempt_at__isnull=True, created_at__lte=now - STUCK_REFUND_AFTER)
    tried_long_ago = Q(last_attempt_at__lte=now - RETRY_REFUND_AFTER)
    return list(
        Refund.objects.filter(never_tried | tried_long_ago, status=RefundStatus.REQUESTED)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


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
        gateway = get_gateway(order.gateway)
        if gateway is None:
            continue
        try:
            notice = gateway.query_payment(out_trade_no=order.out_trade_no)
        except GatewayError:
            continue
        if notice is not None:
            outcome = confirm_payment(
                out_trade_no=notice.out_trade_no,
                gateway_trade_no=notice.gateway_trade_no,
                amount=notice.amount,
                paid_at=notice.paid_at,
                now=now,
            )
            if outcome == PaymentOutcome.REFUND_DUE:
                return_stray_payment(notice=notice)
        Order.objects.filter(pk=order.pk).update(gateway_checked_at=now)
        checked += 1
    return checked


# -- cancellation ----------------------------------------------------------------------------------


def cancel_booking(
    *,
    appointment: Appointment,
    by: User | None,
    reason: str,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Cancel an appointment under the booking core's rules and settle its order.

    An unpaid order is closed; a paid one is refunded in full through its gateway. Raises the
    booking core's AppointmentError when the cancellation is not allowed, changing nothing.
    The refund requested is on ``appointment.refund_requested``. ``notify=False`` leaves the
    message to the caller (a suspension writes its own).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(appointment_id=appointment.pk).first()
        appointment = appointment_services.cancel_appointment(
            appointment=appointment, by=by, reason=reason, now=now
        )
        amount = money.ZERO
        if order is not None and order.status == OrderStatus.UNPAID:
            order.status = OrderStatus.CLOSED
            order.closed_at = appointment.cancelled_at
            order.save(update_fields=["status", "closed_at"])
        elif order is not None and order.status in REFUNDABLE_STATUSES:
            amount = cancellation_refund(
                order=order, appointment=appointment, by=by, now=appointment.cancelled_at
            )
            if amount > 0:
                request_refund(order=order, reason=reason or "预约已取消", by=by, amount=amount)
        if notify:
            notices.cancelled(appointment, amount)
        if by is not None and by.pk != appointment.member.user_id:
            audit.record(
                actor=by, action="appointment.cancel_for_member", target=appointment, reason=reason
            )
    appointment.refund_requested = amount
    return appointment


def cancellation_refund(
    *, order: Order, appointment: Appointment, by: User | None, now: dt.datetime
) -> Decimal:
    """What cancelling at ``now`` gives back: all that is left, except a member's own late
    cancellation (a privilege of higher levels), which gets ``MEDBOOK_LATE_CANCEL_REFUND_PERCENT``
    of it, rounded down to the cent. Also shown to the member before they cancel."""
    remaining = order.amount - order.refunded_amount
    if order.status not in REFUNDABLE_STATUSES:
        return money.ZERO
    cutoff = appointment.schedule.starts_at - dt.timedelta(
        hours=settings.MEDBOOK_CANCEL_CUTOFF_HOURS
    )
    own_late = by is not None and by.pk == appointment.member.user_id and now >= cutoff
    if not own_late or by.has_perm("appointments.cancel_any_appointment"):
        return remaining
    return money.refund_share(
        remaining=remaining, percent=settings.MEDBOOK_LATE_CANCEL_REFUND_PERCENT
    )


# -- visits ----------------------------------------------------------------------------------------


def complete_visit(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """Mark a checked-in visit completed and, if it was paid, award its points: one transaction.

    The points come from what the member actually paid (after refunds) times their level's
    multiplier; the ledger entry references the appointment, and the level rises with it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(appointment_id=appointment.pk).first()
        appointment = appointment_services.complete_appointment(appointment=appointment, now=now)
        if order is None or order.status not in REFUNDABLE_STATUSES:
            return appointment
        member = Member.objects.select_related("level").get(pk=appointment.member_id)
        points = money.points_for(
            paid=order.amount - order.refunded_amount, multiplier=member.level.points_multiplier
        )
        if points > 0:
            member_services.add_points(
                member=member,
                delta=points,
                reason=PointsReason.VISIT,
                reference=f"appointment:{appointment.pk}",
                now=now,
            )
    return appointment


# -- reminders -------------------------------------------------------------------------------------


def send_visit_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind members of tomorrow's confirmed appointments, once each (the hourly job).

    Safe to run again: an appointment that already has its reminder is skipped.
    """
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    reminded = Message.objects.filter(
        kind=MessageKind.REMINDER,
        reference=Concat(Value("reminder:"), Cast(OuterRef("pk"), CharField())),
    )
    due = (
        Appointment.objects.filter(schedule__date=tomorrow, status=AppointmentStatus.CONFIRMED)
        .exclude(Exists(reminded))
        .select_related("member", "schedule__doctor__department")
        .order_by("pk")
    )
    count = 0
    for appointment in due.iterator(chunk_size=500):
        notices.reminder(appointment)
        count += 1
    return count
