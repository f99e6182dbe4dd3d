"""The billing app's webhook events (medbook.webhooks): payments and refunds, and the
suspension of a session (停诊, a flow of this app). Built only when someone subscribes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from appointments.hooks import schedule_payload
from appointments.models import Schedule
from medbook import webhooks

from .models import Order, Refund


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "out_trade_no": order.out_trade_no,
        "status": order.status,
        "gateway": order.gateway,
        "amount": str(order.amount),
        "refunded_amount": str(order.refunded_amount),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "appointment_id": order.appointment_id,
        "member_id": order.member_id,
    }


def payment_succeeded(order: Order, *, now: dt.datetime | None) -> None:
    webhooks.emit("payment.succeeded", lambda: {"order": _order(order)}, now=now)


def refund_succeeded(refund: Refund, order: Order, *, now: dt.datetime | None) -> None:
    def payload() -> dict[str, Any]:
        return {
            "refund": {
                "id": refund.pk,
                "out_refund_no": refund.out_refund_no,
                "amount": str(refund.amount),
                "status": refund.status,
                "completed_at": refund.completed_at.isoformat() if refund.completed_at else None,
                # A payment the order never took (paid after its hold ran out) sent back.
                "stray_payment": bool(refund.stray_trade_no),
            },
            "order": _order(order),
        }

    webhooks.emit("refund.succeeded", payload, now=now)


def schedule_suspended(schedule: Schedule, *, now: dt.datetime | None) -> None:
    webhooks.emit(
        "schedule.suspended",
        lambda: {
            "schedule": schedule_payload(schedule),
            "reason": schedule.suspended_reason,
        },
        now=now,
    )
