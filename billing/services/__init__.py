"""Writes of billing, by concept: orders (booking with an order, holds, cancelling with the
settlement of the order), payments (applying payments and the gateways' notifications), refunds,
visits (points for a paid visit), and the clinic day's flows that move money (clinic: suspension,
booking for a member, walk-ins, payment at the counter)."""

from .clinic import (
    Suspension,
    book_for_member,
    pay_at_counter,
    register_walk_in,
    register_walk_in_patient,
    suspend_schedule,
)
from .orders import (
    EXPIRED_HOLD_REASON,
    cancel_booking,
    cancellation_refund,
    close_expired,
    expire_holds_of_schedule,
    expire_order,
    expire_unpaid_orders,
    new_out_trade_no,
    place_booking,
)
from .payments import (
    ACCEPTED_OUTCOMES,
    NOTIFICATION_HEADERS,
    PaymentOutcome,
    check_closed_orders_with_gateways,
    confirm_payment,
    kept_headers,
    receive_notification,
    stored_body,
)
from .refunds import (
    REFUND_TASK,
    REFUNDABLE_STATUSES,
    carry_out_refund,
    complete_refund,
    request_refund,
    return_stray_payment,
    stuck_refunds,
)
from .visits import complete_visit

__all__ = [
    "ACCEPTED_OUTCOMES",
    "EXPIRED_HOLD_REASON",
    "NOTIFICATION_HEADERS",
    "REFUNDABLE_STATUSES",
    "REFUND_TASK",
    "PaymentOutcome",
    "Suspension",
    "book_for_member",
    "cancel_booking",
    "cancellation_refund",
    "carry_out_refund",
    "check_closed_orders_with_gateways",
    "close_expired",
    "complete_refund",
    "complete_visit",
    "confirm_payment",
    "expire_holds_of_schedule",
    "expire_order",
    "expire_unpaid_orders",
    "kept_headers",
    "new_out_trade_no",
    "pay_at_counter",
    "place_booking",
    "receive_notification",
    "register_walk_in",
    "register_walk_in_patient",
    "request_refund",
    "return_stray_payment",
    "stored_body",
    "stuck_refunds",
    "suspend_schedule",
]
