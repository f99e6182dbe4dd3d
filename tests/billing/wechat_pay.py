"""A local stand-in of WeChat Pay API v3 for the tests (the gateway's, the API's and the
checkout page's): keys made on the spot, requests whose signature and body it checks as WeChat Pay
does, and answers it signs with "WeChat Pay's" key. Nothing reaches the internet."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from billing.models import Order
from demo.wechat_pay import (
    APP_ID,
    CERT_SERIAL_NO,
    MCH_ID,
    PREPAY_PATHS,
    PUBLIC_KEY_ID,
    Keys,
    WechatPayStandin,
    beijing,
    encrypted_notification,
    merchant_signed,
    prepay_refused,
    server,
    signed_headers,
)

from .providers import (
    Answer,
    FakeProvider,
    Request,
    new_keys,
    private_pem,
    public_pem,
    serving,
    use_gateway,
)

__all__ = [  # what the tests import from here besides the stand-in
    "APIV3_KEY",
    "APP_ID",
    "CERT_SERIAL_NO",
    "MCH_ID",
    "NOTIFY_URL",
    "PUBLIC_KEY_ID",
    "beijing",
    "notification",
    "notify",
    "signed_headers",
]

APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"  # 32 characters, as WeChat Pay issues them
NOTIFY_URL = "/payments/notify/wechat/"


def notification(order: Order, *, key: str = APIV3_KEY, state: str = "SUCCESS") -> str:
    """A TRANSACTION.SUCCESS notification's body for ``order`` (its amount paid), its resource
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
    return encrypted_notification(
        transaction, apiv3_key=key, event_id="EV-2026112410150100000000000000"
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
            key=self.keys["merchant"].public_key(),
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
        if prepay_refused(kind, sent):
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


@pytest.fixture(scope="session")
def standin_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo stand-in's keys, made once (RSA keys take a while)."""
    return Keys(tmp_path_factory.mktemp("wechat-standin-keys")).ensure().folder


@pytest.fixture
def wechat_standin(settings, standin_keys, live_server, tmp_path) -> Iterator[WechatPayStandin]:
    """The demo's WeChat Pay stand-in (demo/wechat_pay.py) served from a thread, its trades
    kept in a folder of the test's own, and MedBook set up to pay through it as ``dev.py run``
    sets it up (WeChat Pay offered beside the clinic's gateway), notified at the live server."""
    keys = Keys(Path(shutil.copytree(standin_keys, tmp_path / "wechat-standin")))
    for name, value in keys.settings().items():
        if name.endswith("_FILE"):
            name, value = name.removesuffix("_FILE"), Path(value).read_text().strip()
        setattr(settings, name, value)
    standin = WechatPayStandin(keys, public_url="", log=lambda line: None)
    httpd = server(standin, "127.0.0.1", 0)
    standin.public_url = f"http://127.0.0.1:{httpd.server_port}"
    settings.MEDBOOK_WECHAT_GATEWAY_URL = standin.public_url
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield standin
    finally:
        httpd.shutdown()
        httpd.server_close()
