"""Refunds: asked for inside the caller's transaction (and so never more than was paid),
carried out by a job through the gateway outside any transaction, recorded once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from medbook import audit, metrics, money, outbox
from members.models import User

from .. import exceptions as errors
from .. import hooks, notices
from ..choices import OrderStatus, RefundStatus
from ..gateways import GatewayError, PaymentNotice, get_gateway
from ..models import Order, Refund

__all__ = [
    "REFUNDABLE_STATUSES",
    "REFUND_TASK",
    "booking_kept",
    "carry_out_refund",
    "complete_refund",
    "kept_amount",
    "request_refund",
    "return_stray_payment",
    "stuck_refunds",
]

REFUND_TASK = "billing.tasks.carry_out_refund"

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


def return_stray_payment(*, notice: PaymentNotice, gateway: str = "") -> Refund:
    """Send back a payment the order could not take (paid after closing, or paid twice). Once.
    ``gateway``: the one that took it ("": the order's), which it goes back through."""
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
            gateway=gateway,
        )
        _enqueue_refund(refund)
    return refund


def carry_out_refund(*, refund_id: int, now: dt.datetime | None = None) -> bool:
    """Call the gateway (outside any transaction), then record the result. Safe to repeat."""
    now = now or timezone.now()
    refund = Refund.objects.select_related("order").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return True
    Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1, last_attempt_at=now)
    name = refund.gateway or refund.order.gateway  # the gateway that took the money
    gateway = get_gateway(name)
    if gateway is None:
        raise GatewayError(f"gateway {name!r} is not available")
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
        metrics.REFUNDS.labels("failed").inc()
        raise
    complete_refund(refund_id=refund.pk, gateway_refund_no=refund_no, now=now)
    return True


def complete_refund(
    *, refund_id: int, gateway_refund_no: str, now: dt.datetime | None = None
) -> None:
    """Record a refund the gateway carried out and move the order's totals with it. Once."""
    now = now or timezone.now()
    with transaction.atomic():
        order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.REQUESTED:
            return
        refund.status = RefundStatus.SUCCEEDED
        refund.gateway_refund_no = gateway_refund_no
        refund.completed_at = now
        refund.save(update_fields=["status", "gateway_refund_no", "completed_at"])
        transaction.on_commit(metrics.REFUNDS.labels("succeeded").inc)
        if refund.stray_trade_no:
            hooks.refund_succeeded(refund, order, now=now)
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
        hooks.refund_succeeded(refund, order, now=now)


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


def kept_amount(order: Order) -> Decimal:
    """What the member has paid for ``order`` and keeps paid: the amount less what is refunded
    or on its way back (0 for an order not paid)."""
    if order.status not in REFUNDABLE_STATUSES:
        return money.ZERO
    pending = (
        order.refunds.filter(status=RefundStatus.REQUESTED, stray_trade_no="").aggregate(
            total=Sum("amount")
        )["total"]
        or money.ZERO
    )
    return order.amount - order.refunded_amount - pending


def booking_kept(orders: list[Order]) -> Decimal:
    """What a booking paid with ``orders`` (its order and those it tops up) keeps paid."""
    return sum((kept_amount(order) for order in orders), money.ZERO)
