"""The sandbox: a payment provider built in, and MedBook's gateway adapter for it, in one place.

The provider plays the gateway's side of a payment for the embedded default and demos: a payer
opens the cashier link, confirms (recorded in the sandbox's own ledger, SandboxTrade) and a
background job posts a signed notification to MedBook's notify URL, retrying until it is
acknowledged — the same path a real gateway's payment takes. It never moves money.

Notifications are JSON bodies signed with HMAC-SHA256 under a key derived from SECRET_KEY
(``MEDBOOK_SANDBOX_KEY`` overrides it), sent in the ``X-Sandbox-Signature`` header;
:class:`SandboxGateway` verifies them, refunds and reports like any other adapter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from medbook import outbox

from ..choices import OrderStatus
from ..models import Order, SandboxRefund, SandboxTrade
from .base import (
    Acknowledgement,
    GatewayError,
    InvalidNotification,
    PaymentNotice,
    StatementEntry,
)

# -- the adapter: what MedBook calls ---------------------------------------------------------

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
        return refund(
            out_trade_no=out_trade_no,
            trade_no=gateway_trade_no,
            out_refund_no=out_refund_no,
            amount=amount,
        )

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        """The sandbox's record of a payment for ``out_trade_no``, or None if it has none."""
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


# -- the provider: the cashier, its ledger and its notifications ------------------------------

TOKEN_SALT = "medbook.sandbox.cashier"  # noqa: S105 - a salt, not a secret
NOTIFY_TASK = "billing.tasks.deliver_sandbox_notification"


class NotifyFailed(Exception):
    """MedBook did not acknowledge a notification; the job tries again later."""


def checkout_url(order: Order) -> str:
    """The cashier link for ``order`` (the token stops anyone else guessing order numbers)."""
    token = signing.dumps(order.out_trade_no, salt=TOKEN_SALT)
    path = reverse("billing:sandbox_cashier", args=[order.out_trade_no])
    return f"{path}?t={token}"


def order_for_token(*, out_trade_no: str, token: str) -> Order | None:
    try:
        signed = signing.loads(token, salt=TOKEN_SALT, max_age=dt.timedelta(days=1))
    except signing.BadSignature:
        return None
    if signed != out_trade_no:
        return None
    return (
        Order.objects.select_related("appointment__schedule__doctor__department", "member")
        .filter(out_trade_no=out_trade_no)
        .first()
    )


def pay(*, order: Order, now: dt.datetime | None = None) -> SandboxTrade:
    """The payer confirmed: record the payment once and promise its notification.

    The notification job is written to the outbox with the trade, so it is sent even if the
    broker is down right now; confirming again re-sends a notice MedBook has not acknowledged.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            existing = (
                SandboxTrade.objects.select_for_update()
                .filter(out_trade_no=order.out_trade_no)
                .first()
            )
            if existing is not None:
                if existing.notified_at is None:
                    outbox.enqueue(NOTIFY_TASK, existing.pk)
                return existing
            trade = SandboxTrade.objects.create(
                trade_no=f"SB{timezone.localtime(now):%Y%m%d}{secrets.token_hex(8)}",
                out_trade_no=order.out_trade_no,
                amount=order.amount,
                paid_at=now,
            )
            outbox.enqueue(NOTIFY_TASK, trade.pk)
    except IntegrityError:  # paid twice at once: the first one stands
        return SandboxTrade.objects.get(out_trade_no=order.out_trade_no)
    return trade


def unacknowledged_trades(*, now: dt.datetime, older_than: dt.timedelta) -> list[int]:
    """Sandbox payments whose notification MedBook has not acknowledged yet (a gateway's retry
    schedule: the sweep sends them again)."""
    return list(
        SandboxTrade.objects.filter(notified_at__isnull=True, paid_at__lte=now - older_than)
        .order_by("paid_at")
        .values_list("pk", flat=True)[:500]
    )


def deliver_notification(*, trade_id: int) -> bool:
    """Post the signed notification of one sandbox payment; True once acknowledged."""
    trade = SandboxTrade.objects.get(pk=trade_id)
    if trade.notified_at is not None:
        return True
    SandboxTrade.objects.filter(pk=trade.pk).update(notify_attempts=F("notify_attempts") + 1)
    _latency()
    body = notification_body(
        out_trade_no=trade.out_trade_no,
        trade_no=trade.trade_no,
        amount=trade.amount,
        paid_at=trade.paid_at,
    )
    url = settings.MEDBOOK_PUBLIC_URL.rstrip("/") + reverse(
        "billing:gateway_notify", args=["sandbox"]
    )
    request = urllib.request.Request(  # noqa: S310 - our own configured URL
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer = response.read().decode()
    except urllib.error.HTTPError as exc:
        raise NotifyFailed(f"notify answered {exc.code}") from exc
    if answer != "success":
        raise NotifyFailed(f"notify answered {answer[:50]!r}")
    SandboxTrade.objects.filter(pk=trade.pk).update(notified_at=timezone.now())
    return True


def is_payable(order: Order) -> bool:
    return order.status == OrderStatus.UNPAID and order.expires_at > timezone.now()


def refund(*, out_trade_no: str, trade_no: str, out_refund_no: str, amount: Decimal) -> str:
    """Refund (part of) a sandbox payment once per refund number; never more than was paid."""
    with transaction.atomic():
        trade = (
            SandboxTrade.objects.select_for_update()
            .filter(out_trade_no=out_trade_no, trade_no=trade_no)
            .first()
        )
        if trade is None:
            raise GatewayError(f"no sandbox payment {trade_no} for order {out_trade_no}")
        done = trade.refunds.filter(out_refund_no=out_refund_no).first()
        if done is not None:
            return done.refund_no
        refunded = trade.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        if refunded + amount > trade.amount:
            raise GatewayError("refund exceeds the payment")
        refund_no = SandboxRefund.objects.create(
            trade=trade,
            out_refund_no=out_refund_no,
            refund_no=f"SR{secrets.token_hex(10)}",
            amount=amount,
            refunded_at=timezone.now(),
        ).refund_no
    _latency()  # the money is back; the answer is on its way
    return refund_no


def _latency() -> None:
    if settings.MEDBOOK_SANDBOX_LATENCY_MS:
        time.sleep(settings.MEDBOOK_SANDBOX_LATENCY_MS / 1000)
