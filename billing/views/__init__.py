"""Billing's views: the gateways' endpoints and the member's booking pages."""

from .gateway import gateway_notify, sandbox_cashier
from .member import (
    appointment_calendar,
    appointment_cancel,
    appointment_detail,
    appointment_list,
    appointment_pay,
    book,
    waitlist_accept,
    wechat_checkout,
)
from .reschedule import appointment_reschedule

__all__ = [
    "appointment_calendar",
    "appointment_cancel",
    "appointment_detail",
    "appointment_list",
    "appointment_pay",
    "appointment_reschedule",
    "book",
    "gateway_notify",
    "sandbox_cashier",
    "waitlist_accept",
    "wechat_checkout",
]
