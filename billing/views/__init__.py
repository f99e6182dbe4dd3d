"""Billing's views: the gateways' endpoints and the member's booking pages."""

from .gateway import gateway_notify, sandbox_cashier
from .member import (
    appointment_calendar,
    appointment_cancel,
    appointment_detail,
    appointment_list,
    appointment_pay,
    book,
)

__all__ = [
    "appointment_calendar",
    "appointment_cancel",
    "appointment_detail",
    "appointment_list",
    "appointment_pay",
    "book",
    "gateway_notify",
    "sandbox_cashier",
]
