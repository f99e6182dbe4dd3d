"""The interface every payment gateway adapter implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class GatewayError(Exception):
    """The gateway could not carry out a request now; the job retries."""


class InvalidNotification(Exception):
    """A notification that failed its signature check or could not be read."""


class IgnoredNotification(Exception):
    """A genuine notification that is not a payment (e.g. a trade closed): acknowledged only."""


@dataclass(frozen=True)
class PaymentNotice:
    """A payment, as a gateway's verified notification states it."""

    out_trade_no: str
    gateway_trade_no: str
    amount: Decimal
    paid_at: dt.datetime


@dataclass(frozen=True)
class StatementEntry:
    """One line of a gateway's daily statement (对账单)."""

    kind: str  # "payment" or "refund"
    reference: str  # the gateway's trade number, or its refund number
    out_trade_no: str
    amount: Decimal


class PrepayKind:
    """The kinds of prepay order (WeChat Pay) a client can open."""

    NATIVE = "native"  # a QR code scanned with WeChat (web pages)
    JSAPI = "jsapi"  # inside WeChat (official account page, mini program): needs the openid
    APP = "app"  # a mobile app with the WeChat SDK


@dataclass(frozen=True)
class Prepay:
    """A prepay order WeChat Pay placed: ``code_url`` (Native) or ``prepay_id`` with the signed
    ``params`` the WeChat client is handed (JSAPI: WeixinJSBridge / wx.requestPayment; App:
    the App SDK's PayReq)."""

    kind: str
    code_url: str = ""
    prepay_id: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Acknowledgement:
    """What the notify endpoint answers, in the gateway's own words."""

    status: int
    body: str
    content_type: str = "text/plain"


class PaymentGateway(Protocol):
    name: str

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        """Verify the signature, then read the notice. Raises InvalidNotification."""
        ...

    def acknowledge(self, *, accepted: bool) -> Acknowledgement:
        """The answer that stops (accepted) or keeps (not accepted) the gateway retrying."""
        ...

    def refund(
        self,
        *,
        out_trade_no: str,
        gateway_trade_no: str,
        out_refund_no: str,
        amount: Decimal,
        total: Decimal,
    ) -> str:
        """Return ``amount`` of a ``total`` payment; idempotent per ``out_refund_no``. Returns the
        gateway's refund number.

        Raises GatewayError when it cannot be done now.
        """
        ...

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        """Ask the gateway whether ``out_trade_no`` was paid (None: not paid, or the gateway
        keeps no record MedBook can ask for). Raises GatewayError when it cannot answer now."""
        ...

    def statement(self, *, start: dt.datetime, end: dt.datetime) -> list[StatementEntry]:
        """The gateway's own record of payments and refunds in [start, end)."""
        ...
