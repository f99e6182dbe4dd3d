"""WeChat Pay API v3 (微信支付) through wechatpayv3, in "WeChat Pay public key" mode.

Notifications are verified (RSA-SHA256 over timestamp, nonce and body, with WeChat Pay's public
key), checked for freshness, and their resource decrypted (AEAD_AES_256_GCM with the APIv3 key).
Refunds are signed requests to /v3/refund/domestic/refunds whose answers are verified the same
way. Online checkout places prepay orders (/v3/pay/transactions/{native,jsapi,app}): Native
answers the code_url a QR code shows, JSAPI and App the prepay_id, which is handed to the WeChat
client with parameters signed with the merchant key. Settings: MEDBOOK_WECHAT_MCH_ID,
MEDBOOK_WECHAT_APP_ID, MEDBOOK_WECHAT_PRIVATE_KEY,
MEDBOOK_WECHAT_CERT_SERIAL_NO, MEDBOOK_WECHAT_APIV3_KEY, MEDBOOK_WECHAT_PUBLIC_KEY,
MEDBOOK_WECHAT_PUBLIC_KEY_ID (and MEDBOOK_WECHAT_GATEWAY_URL for a stand-in in tests).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from zoneinfo import ZoneInfo

import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from medbook import money

from .base import (
    Acknowledgement,
    GatewayError,
    IgnoredNotification,
    InvalidNotification,
    PaymentNotice,
    Prepay,
    PrepayKind,
    StatementEntry,
)
from .bills import wechat_statement

MAX_CLOCK_SKEW_SECONDS = 300
BEIJING = ZoneInfo("Asia/Shanghai")  # time_expire is sent in Beijing time, with its offset


_PAY_TYPES = {
    PrepayKind.NATIVE: WeChatPayType.NATIVE,
    PrepayKind.JSAPI: WeChatPayType.JSAPI,
    PrepayKind.APP: WeChatPayType.APP,
}


class WechatPayGateway:
    name = "wechat"

    def __init__(
        self,
        *,
        mch_id: str,
        app_id: str,
        private_key: str,
        cert_serial_no: str,
        apiv3_key: str,
        public_key: str,
        public_key_id: str,
        notify_url: str,
        gateway_url: str = "https://api.mch.weixin.qq.com",
    ) -> None:
        self.public_key_id = public_key_id
        self.mch_id = mch_id
        self.app_id = app_id
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=mch_id,
            private_key=private_key,
            cert_serial_no=cert_serial_no,
            appid=app_id,
            apiv3_key=apiv3_key,
            notify_url=notify_url,
            public_key=public_key,
            public_key_id=public_key_id,
            timeout=(5, 15),
        )
        self.client._core._gate_way = gateway_url  # the SDK keeps its endpoint here

    def prepay(
        self,
        *,
        kind: str,
        out_trade_no: str,
        amount: Decimal,
        description: str,
        expires_at: dt.datetime,
        payer_openid: str | None = None,
    ) -> Prepay:
        """Place a prepay order for ``kind`` (a PrepayKind): ``amount`` in fen, payable until
        ``expires_at`` (time_expire), notified at the notify URL. Placing it again with the
        same terms gives the same order. Raises GatewayError when WeChat Pay refuses or
        cannot be reached, or its answer is not signed by it."""
        if kind == PrepayKind.JSAPI and not payer_openid:
            raise GatewayError("a JSAPI prepay needs the payer's openid")
        try:
            code, message = self.client.pay(
                description=description[:127],
                out_trade_no=out_trade_no,
                amount={"total": money.to_cents(amount), "currency": "CNY"},
                time_expire=expires_at.astimezone(BEIJING).isoformat(timespec="seconds"),
                payer={"openid": payer_openid} if kind == PrepayKind.JSAPI else None,
                pay_type=_PAY_TYPES[kind],
            )
        except (requests.RequestException, OSError) as exc:
            raise GatewayError(f"wechat prepay failed: {exc}") from exc
        except Exception as exc:
            raise GatewayError(f"wechat prepay not verified: {exc}") from exc
        if code != 200:
            raise GatewayError(f"wechat prepay refused ({code}): {str(message)[:150]}")
        try:
            answer = json.loads(message)
            if kind == PrepayKind.NATIVE:
                return Prepay(kind=kind, code_url=str(answer["code_url"]))
            prepay_id = str(answer["prepay_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayError(f"wechat prepay answer incomplete: {exc}") from exc
        return Prepay(kind=kind, prepay_id=prepay_id, params=self._client_params(kind, prepay_id))

    def _client_params(self, kind: str, prepay_id: str) -> dict[str, str]:
        """What the WeChat client is handed to pay ``prepay_id``, signed (RSA-SHA256, the
        merchant key) over the documented lines, each ending in a newline."""
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        if kind == PrepayKind.JSAPI:
            package = f"prepay_id={prepay_id}"
            return {
                "appId": self.app_id,
                "timeStamp": timestamp,
                "nonceStr": nonce,
                "package": package,
                "signType": "RSA",
                "paySign": self.client.sign([self.app_id, timestamp, nonce, package]),
            }
        return {
            "appid": self.app_id,
            "partnerid": self.mch_id,
            "prepayid": prepay_id,
            "package": "Sign=WXPay",
            "noncestr": nonce,
            "timestamp": timestamp,
            "sign": self.client.sign([self.app_id, timestamp, nonce, prepay_id]),
        }

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        lowered = {k.lower(): v for k, v in headers.items()}
        # Checked here first: an unknown serial would make the SDK fetch certificates online.
        if lowered.get("wechatpay-serial") != self.public_key_id:
            raise InvalidNotification("signed with an unknown key")
        try:
            age = abs(time.time() - int(lowered.get("wechatpay-timestamp", "")))
        except ValueError as exc:
            raise InvalidNotification("missing timestamp") from exc
        if age > MAX_CLOCK_SKEW_SECONDS:
            raise InvalidNotification("notification too old or from the future")
        try:
            result = self.client.callback(lowered, body)
        except Exception as exc:
            raise InvalidNotification(f"verification failed: {exc}") from exc
        if not result:
            raise InvalidNotification("signature or decryption failed")
        resource = result.get("resource") or {}
        if result.get("event_type") != "TRANSACTION.SUCCESS":
            raise IgnoredNotification(f"event_type {result.get('event_type')!r}")
        if resource.get("trade_state") != "SUCCESS":
            raise IgnoredNotification(f"trade_state {resource.get('trade_state')!r}")
        try:
            return PaymentNotice(
                out_trade_no=resource["out_trade_no"],
                gateway_trade_no=resource["transaction_id"],
                amount=money.from_cents(resource["amount"]["total"]),
                paid_at=dt.datetime.fromisoformat(resource["success_time"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidNotification(f"incomplete notification: {exc}") from exc

    def acknowledge(self, *, accepted: bool) -> Acknowledgement:
        if accepted:
            return Acknowledgement(status=204, body="")
        return Acknowledgement(
            status=400,
            body=json.dumps({"code": "FAIL", "message": "rejected"}),
            content_type="application/json",
        )

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
            code, message = self.client.refund(
                out_refund_no=out_refund_no,  # WeChat refunds once per out_refund_no
                amount={
                    "refund": money.to_cents(amount),
                    "total": money.to_cents(total),
                    "currency": "CNY",
                },
                transaction_id=gateway_trade_no,
            )
        except (requests.RequestException, OSError) as exc:
            raise GatewayError(f"wechat refund failed: {exc}") from exc
        except Exception as exc:
            raise GatewayError(f"wechat refund not verified: {exc}") from exc
        if code not in (200, 201):
            raise GatewayError(f"wechat refund refused ({code}): {str(message)[:150]}")
        answer = json.loads(message)
        if answer.get("status") not in ("SUCCESS", "PROCESSING"):
            raise GatewayError(f"wechat refund status {answer.get('status')!r}")
        return str(answer["refund_id"])

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        """Query by out_trade_no: the payment, or None if WeChat Pay has none (not paid)."""
        try:
            code, message = self.client.query(out_trade_no=out_trade_no)
        except (requests.RequestException, OSError) as exc:
            raise GatewayError(f"wechat query failed: {exc}") from exc
        except Exception as exc:
            raise GatewayError(f"wechat query not verified: {exc}") from exc
        if code == 404:
            return None
        if code != 200:
            raise GatewayError(f"wechat query refused ({code}): {str(message)[:150]}")
        try:
            answer = json.loads(message)
            if answer.get("trade_state") != "SUCCESS":
                return None
            return PaymentNotice(
                out_trade_no=answer["out_trade_no"],
                gateway_trade_no=answer["transaction_id"],
                amount=Decimal(answer["amount"]["total"]) / 100,
                paid_at=dt.datetime.fromisoformat(answer["success_time"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayError(f"wechat query answer incomplete: {exc}") from exc

    def statement(self, *, start: dt.datetime, end: dt.datetime) -> list[StatementEntry]:
        return wechat_statement(start.date())
