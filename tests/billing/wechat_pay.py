"""A local stand-in of WeChat Pay API v3 for the tests (the gateway's, the API's and the
checkout page's): keys made on the spot, requests whose signature and body it checks as WeChat Pay
does, and answers it signs with "WeChat Pay's" key. Nothing reaches the internet."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from billing.models import Order

from .providers import (
    Answer,
    FakeProvider,
    Request,
    new_keys,
    private_pem,
    public_pem,
    serving,
    sign,
    use_gateway,
    verify,
)

MCH_ID = "1900000109"
APP_ID = "wxd678efh567hg6787"
APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"  # 32 characters, as WeChat Pay issues them
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
CERT_SERIAL_NO = "444F4864EA9B34415A1B2C3D4E5F60718293A4B5"
NOTIFY_URL = "/payments/notify/wechat/"
PREPAY_PATHS = {
    "/v3/pay/transactions/native": "native",
    "/v3/pay/transactions/jsapi": "jsapi",
    "/v3/pay/transactions/app": "app",
}
AUTHORIZATION = re.compile(r"^WECHATPAY2-SHA256-RSA2048 (?P<fields>.+)$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def signed_headers(key, body: str, *, timestamp: int | None = None, serial=PUBLIC_KEY_ID) -> dict:
    """Headers of a message WeChat Pay signs (an answer, a notification)."""
    stamp, nonce = str(timestamp or int(time.time())), uuid.uuid4().hex
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(key, f"{stamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def notification(order: Order, *, key: str = APIV3_KEY, state: str = "SUCCESS") -> str:
    """A TRANSACTION.SUCCESS notification's body for ``order`` (50.00 paid), its resource
    encrypted with the APIv3 key."""
    transaction = {
        "mchid": MCH_ID,
        "appid": APP_ID,
        "out_trade_no": order.out_trade_no,
        "transaction_id": "4200000000202611240000000001",
        "trade_type": "NATIVE",
        "trade_state": state,
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-24T10:15:01+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {
            "total": int(order.amount * 100),
            "payer_total": int(order.amount * 100),
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    nonce = os.urandom(6).hex()  # 12 characters
    ciphertext = AESGCM(key.encode()).encrypt(
        nonce.encode(), json.dumps(transaction).encode(), b"transaction"
    )
    return json.dumps(
        {
            "id": "EV-2026112410150100000000000000",
            "create_time": "2026-11-24T10:15:02+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )


def notify(client, keys, order: Order):
    """WeChat Pay notifies MedBook that ``order`` was paid."""
    body = notification(order)
    return client.post(
        NOTIFY_URL,
        body.encode(),
        content_type="application/json",
        headers=signed_headers(keys["wechat"], body),
    )


def merchant_signed(authorization: str, *, method: str, path: str, body: str, key) -> bool:
    """Whether an Authorization header is the merchant's signature of this request."""
    match = AUTHORIZATION.match(authorization or "")
    if match is None:
        return False
    fields = dict(re.findall(r'(\w+)="([^"]*)"', match["fields"]))
    if fields.get("mchid") != MCH_ID or fields.get("serial_no") != CERT_SERIAL_NO:
        return False
    message = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
    return verify(key, message, fields.get("signature", ""))


class FakeWechatPay(FakeProvider):
    """Answers the prepay orders (POST /v3/pay/transactions/{native,jsapi,app}), refunds (POST
    /v3/refund/domestic/refunds) and the order query as WeChat Pay does: a request not signed
    with the merchant's key is a 401 SIGN_ERROR, a prepay body missing what WeChat Pay needs a
    400 PARAM_ERROR; answers are signed. Records (path, JSON sent or None, Authorization) of
    the requests it accepts; ``paid`` is out_trade_no -> (transaction_id, total in cents) the
    query reports; ``prepaid`` is out_trade_no -> the prepay body accepted."""

    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        super().__init__(keys)
        self.prepaid: dict[str, dict] = {}
        self.refused: list[tuple[str, str]] = []  # (path, code) of requests refused

    def answer(self, request: Request) -> Answer:
        raw = request.body.decode()
        if not merchant_signed(
            request.headers["Authorization"],
            method=request.method,
            path=request.path,
            body=raw,
            key=self.keys["merchant"],
        ):
            return self.refuse(request.path, 401, "SIGN_ERROR", "签名错误")
        if request.method == "GET":
            return self.answer_query(request)
        sent = json.loads(raw)
        if request.path in PREPAY_PATHS:
            return self.answer_prepay(request.path, PREPAY_PATHS[request.path], sent)
        self.requests.append((request.path, sent, request.headers["Authorization"]))
        return self.signed(
            200,
            json.dumps(
                {
                    "refund_id": "50000000382019052709732678859",
                    "out_refund_no": sent["out_refund_no"],
                    "transaction_id": sent["transaction_id"],
                    "channel": "ORIGINAL",
                    "status": "PROCESSING",
                    "amount": {**sent["amount"], "payer_refund": sent["amount"]["refund"]},
                }
            ),
        )

    def answer_prepay(self, path: str, kind: str, sent: dict) -> Answer:
        amount = sent.get("amount") or {}
        problems = [
            sent.get("appid") != APP_ID,
            sent.get("mchid") != MCH_ID,
            not sent.get("description"),
            not re.fullmatch(r"[0-9A-Za-z_\-*|]{6,32}", sent.get("out_trade_no", "")),
            not str(sent.get("notify_url", "")).startswith(("http://", "https://")),
            not isinstance(amount.get("total"), int) or amount["total"] <= 0,
            amount.get("currency", "CNY") != "CNY",
            not RFC3339.match(sent.get("time_expire", "")),
            kind == "jsapi" and not (sent.get("payer") or {}).get("openid"),
            kind != "jsapi" and "payer" in sent,
        ]
        if any(problems):
            return self.refuse(path, 400, "PARAM_ERROR", "参数错误")
        self.requests.append((path, sent, ""))
        self.prepaid[sent["out_trade_no"]] = sent
        if kind == "native":
            body = {"code_url": f"weixin://wxpay/bizpayurl?pr={sent['out_trade_no'][-7:]}"}
        else:
            body = {"prepay_id": f"wx2611241015{sent['out_trade_no'][-16:]}"}
        return self.signed(200, json.dumps(body))

    def answer_query(self, request: Request) -> Answer:
        """GET /v3/pay/transactions/out-trade-no/<no>: a trade in ``paid`` or 404."""
        self.requests.append((request.path, None, request.headers["Authorization"]))
        out_trade_no = request.path.split("?")[0].rsplit("/", 1)[-1]
        paid = self.paid.get(out_trade_no)
        if paid is None:
            return self.signed(
                404, json.dumps({"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            )
        return self.signed(
            200,
            json.dumps(
                {
                    "out_trade_no": out_trade_no,
                    "transaction_id": paid[0],
                    "trade_state": "SUCCESS",
                    "amount": {"total": paid[1], "currency": "CNY"},
                    "success_time": "2026-11-24T10:15:00+08:00",
                }
            ),
        )

    def refuse(self, path: str, status: int, code: str, message: str) -> Answer:
        self.refused.append((path, code))
        return self.signed(status, json.dumps({"code": code, "message": message}))

    def signed(self, status: int, body: str) -> Answer:
        headers = signed_headers(self.keys["wechat"], body)
        return Answer(body, status, {**headers, "Content-Type": "application/json"})


@pytest.fixture(scope="module")
def wechat_keys() -> dict[str, rsa.RSAPrivateKey]:
    """The merchant's key and WeChat Pay's."""
    return new_keys("merchant", "wechat")


@pytest.fixture
def wechat(settings, wechat_keys):
    """WeChat Pay as MedBook's gateway (new orders are WeChat orders); its adapter."""
    return use_gateway(
        settings,
        "wechat",
        MEDBOOK_WECHAT_MCH_ID=MCH_ID,
        MEDBOOK_WECHAT_APP_ID=APP_ID,
        MEDBOOK_WECHAT_PRIVATE_KEY=private_pem(wechat_keys["merchant"]),
        MEDBOOK_WECHAT_CERT_SERIAL_NO=CERT_SERIAL_NO,
        MEDBOOK_WECHAT_APIV3_KEY=APIV3_KEY,
        MEDBOOK_WECHAT_PUBLIC_KEY=public_pem(wechat_keys["wechat"]),
        MEDBOOK_WECHAT_PUBLIC_KEY_ID=PUBLIC_KEY_ID,
    )


@pytest.fixture
def fake_wechat(wechat_keys, settings):
    with serving(FakeWechatPay(wechat_keys)) as fake:
        settings.MEDBOOK_WECHAT_GATEWAY_URL = fake.url
        yield fake


def beijing(moment: dt.datetime) -> str:
    """``moment`` as WeChat Pay's time_expire states it."""
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")
