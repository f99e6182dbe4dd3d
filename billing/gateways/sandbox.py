"""The built-in sandbox gateway: signs its notifications like a real one, never moves money.

Notifications are JSON bodies signed with HMAC-SHA256 under a key derived from SECRET_KEY
(``MEDBOOK_SANDBOX_KEY`` overrides it), sent in the ``X-Sandbox-Signature`` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings

from .base import Acknowledgement, InvalidNotification, PaymentNotice, StatementEntry

SIGNATURE_HEADER = "X-Sandbox-Signature"


def _key() -> bytes:
    configured = getattr(settings, "MEDBOOK_SANDBOX_KEY", "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"medbook-sandbox-gateway", "sha256").digest()


def sign(body: bytes) -> str:
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


def notification_body(
    *, out_trade_no: str, trade_no: str, amount: Decimal, paid_at: dt.datetime
) -> bytes:
    return json.dumps(
        {
            "out_trade_no": out_trade_no,
            "trade_no": trade_no,
            "total_amount": f"{amount:.2f}",
            "trade_status": "TRADE_SUCCESS",
            "gmt_payment": paid_at.isoformat(),
        },
        separators=(",", ":"),
    ).encode()


class SandboxGateway:
    name = "sandbox"

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature, sign(body)):
            raise InvalidNotification("signature does not match")
        try:
            data = json.loads(body)
            if data["trade_status"] != "TRADE_SUCCESS":
                raise InvalidNotification(f"unexpected trade_status {data['trade_status']!r}")
            paid_at = dt.datetime.fromisoformat(data["gmt_payment"])
            if paid_at.tzinfo is None:
                raise InvalidNotification("gmt_payment has no time zone")
            return PaymentNotice(
                out_trade_no=str(data["out_trade_no"]),
                gateway_trade_no=str(data["trade_no"]),
                amount=Decimal(data["total_amount"]),
                paid_at=paid_at,
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise InvalidNotification(f"unreadable notification: {exc}") from exc

    def refund(
        self,
        *,
        out_trade_no: str,
        gateway_trade_no: str,
        out_refund_no: str,
        amount: Decimal,
        total: Decimal,
    ) -> str:
        from billing import sandbox  # the provider side, which imports this module

        return sandbox.refund(
            out_trade_no=out_trade_no,
            trade_no=gateway_trade_no,
            out_refund_no=out_refund_no,
            amount=amount,
        )

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        """The sandbox's record of a payment for ``out_trade_no``, or None if it has none."""
        from billing.models import SandboxTrade

        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return None
        return PaymentNotice(
            out_trade_no=trade.out_trade_no,
            gateway_trade_no=trade.trade_no,
            amount=trade.amount,
            paid_at=trade.paid_at,
        )

    def statement(self, *, start: dt.datetime, end: dt.datetime) -> list[StatementEntry]:
        from billing.models import SandboxRefund, SandboxTrade

        trades = SandboxTrade.objects.filter(paid_at__gte=start, paid_at__lt=end)
        refunds = SandboxRefund.objects.filter(
            refunded_at__gte=start, refunded_at__lt=end
        ).select_related("trade")
        return [StatementEntry("payment", t.trade_no, t.out_trade_no, t.amount) for t in trades] + [
            StatementEntry("refund", r.refund_no, r.trade.out_trade_no, r.amount) for r in refunds
        ]

    def acknowledge(self, *, accepted: bool) -> Acknowledgement:
        return (
            Acknowledgement(status=200, body="success")
            if accepted
            else Acknowledgement(status=400, body="fail")
        )
