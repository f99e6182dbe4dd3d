"""Payment gateway adapters, looked up by name."""

from __future__ import annotations

from .base import (
    Acknowledgement,
    GatewayError,
    InvalidNotification,
    PaymentGateway,
    PaymentNotice,
    StatementEntry,
)
from .sandbox import SandboxGateway

GATEWAYS: dict[str, PaymentGateway] = {"sandbox": SandboxGateway()}


def get_gateway(name: str) -> PaymentGateway | None:
    return GATEWAYS.get(name)


__all__ = [
    "GATEWAYS",
    "Acknowledgement",
    "GatewayError",
    "InvalidNotification",
    "PaymentGateway",
    "PaymentNotice",
    "StatementEntry",
    "get_gateway",
]
