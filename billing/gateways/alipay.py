"""Alipay (支付宝) through python-alipay-sdk: RSA2-signed requests, verified async notifications.

Configured with MEDBOOK_ALIPAY_APP_ID, MEDBOOK_ALIPAY_PRIVATE_KEY (the app's RSA private key,
PEM) and MEDBOOK_ALIPAY_PUBLIC_KEY (Alipay's public key, PEM); MEDBOOK_ALIPAY_GATEWAY_URL points
at Alipay's sandbox or, in tests, at a local stand-in.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from .base import (
    Acknowledgement,
    GatewayError,
    IgnoredNotification,
    InvalidNotification,
    PaymentNotice,
    StatementEntry,
)
from .bills import alipay_statement

BEIJING = ZoneInfo("Asia/Shanghai")  # Alipay's timestamps are Beijing time without an offset
PAID_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


def _payment(data: Mapping[str, str], *, paid_at: str | None) -> PaymentNotice:
    """A payment as Alipay states it (in a notification or a query's answer)."""
    return PaymentNotice(
        out_trade_no=data["out_trade_no"],
        gateway_trade_no=data["trade_no"],
        amount=Decimal(data["total_amount"]),
        paid_at=dt.datetime.strptime(paid_at or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING),
    )


def _beijing(moment: dt.datetime) -> str:
    """A moment as Alipay's ``time_expire`` wants it: Beijing time, to the second, no offset."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class AlipayGateway:
    name = "alipay"

    def __init__(
        self,
        *,
        app_id: str,
        private_key: str,
        alipay_public_key: str,
        notify_url: str,
        gateway_url: str = "https://openapi.alipay.com/gateway.do",
    ) -> None:
        self.app_id = app_id
        self.client = AliPay(
            appid=app_id,
            app_notify_url=notify_url,
            app_private_key_string=private_key,
            alipay_public_key_string=alipay_public_key,
            sign_type="RSA2",
        )
        self.client._gateway = gateway_url  # the SDK keeps its endpoint here

    def checkout_url(
        self, *, out_trade_no: str, amount: Decimal, subject: str, expires_at: dt.datetime
    ) -> str:
        """The signed page-pay URL the member is sent to. Alipay refuses payment after
        ``expires_at`` (the order's hold): a slot released at the deadline is never paid for."""
        query = self.client.api_alipay_trade_page_pay(
            subject=subject,
            out_trade_no=out_trade_no,
            total_amount=f"{amount:.2f}",
            time_expire=_beijing(expires_at),
        )
        return f"{self.client._gateway}?{query}"

    def app_pay_order_string(
        self, *, out_trade_no: str, amount: Decimal, subject: str, expires_at: dt.datetime
    ) -> str:
        """The signed order string of alipay.trade.app.pay, which the Alipay SDK of a mobile
        app is handed to open the payment (signed here; nothing is sent to Alipay); closed by
        Alipay at ``expires_at``."""
        return self.client.api_alipay_trade_app_pay(
            subject=subject,
            out_trade_no=out_trade_no,
            total_amount=f"{amount:.2f}",
            time_expire=_beijing(expires_at),
        )

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        try:
            data = dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidNotification(f"unreadable notification: {exc}") from exc
        signature = data.pop("sign", "")
        try:
            verified = bool(signature) and self.client.verify(data, signature)
        except (AliPayException, ValueError, TypeError) as exc:
            raise InvalidNotification(f"signature check failed: {exc}") from exc
        if not verified:
            raise InvalidNotification("signature does not match")
        if data.get("app_id") != self.app_id:
            raise InvalidNotification("notification for another app")
        if data.get("trade_status") not in PAID_STATUSES:
            raise IgnoredNotification(f"trade_status {data.get('trade_status')!r}")
        try:
            return _payment(data, paid_at=data.get("gmt_payment"))
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise InvalidNotification(f"incomplete notification: {exc}") from exc

    def acknowledge(self, *, accepted: bool) -> Acknowledgement:
        # Alipay stops retrying only on the exact body "success".
        return Acknowledgement(status=200, body="success" if accepted else "fail")

    def refund(
        self,
        *,
        out_trade_no: str,
        gateway_trade_no: str,
        out_refund_no: str,
        amount: Decimal,
        total: Decimal,
    ) -> str:
        try:
            response = self.client.api_alipay_trade_refund(
                refund_amount=f"{amount:.2f}",
                out_trade_no=out_trade_no,
                out_request_no=out_refund_no,  # Alipay refunds once per request number
            )
        except (AliPayException, AliPayValidationError, urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"alipay refund failed: {exc}") from exc
        if response.get("code") != "10000":
            raise GatewayError(f"alipay refund refused: {response.get('sub_msg') or response}")
        return f"{response.get('trade_no', gateway_trade_no)}/{out_refund_no}"

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        """alipay.trade.query: the payment of ``out_trade_no``, or None if Alipay has none."""
        try:
            response = self.client.api_alipay_trade_query(out_trade_no=out_trade_no)
        except (AliPayException, AliPayValidationError, urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"alipay query failed: {exc}") from exc
        if response.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return None
        if response.get("code") != "10000":
            raise GatewayError(f"alipay query refused: {response.get('sub_msg') or response}")
        if response.get("trade_status") not in PAID_STATUSES:
            return None
        try:
            return _payment(response, paid_at=response.get("send_pay_date"))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise GatewayError(f"alipay query answer incomplete: {exc}") from exc

    def statement(self, *, start: dt.datetime, end: dt.datetime) -> list[StatementEntry]:
        return alipay_statement(start.date())
