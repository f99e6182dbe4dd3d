"""Alipay beside another gateway (the member chooses, issue 19 part 5): the local stand-in of
Alipay's open API from test_alipay (refunds and queries, signed with "Alipay's" key), which here
also serves the page-pay cashier a member is sent to, and Alipay's RSA2-signed notifications of a
payment with any trade number. Nothing reaches the internet."""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from billing.gateways import get_gateway
from billing.models import Order

from .providers import Answer, Request, new_keys, private_pem, public_pem, serving, sign, verify
from .test_alipay import APP_ID, NOTIFY_URL, FakeAlipay

__all__ = ["APP_ID", "NOTIFY_URL", "AlipayCashier", "alipay_notification"]


class AlipayCashier(FakeAlipay):
    """The open API of test_alipay, and the page-pay cashier: a GET of alipay.trade.page.pay
    signed by the app is a page naming the order and amount (else Alipay's error page)."""

    def answer(self, request: Request) -> Answer:
        query = dict(parse_qsl(urlparse(request.path).query))
        if request.method != "GET" or query.get("method") != "alipay.trade.page.pay":
            return super().answer(request)
        signature = query.pop("sign", "")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
        if not verify(self.keys["app"], unsigned, signature):
            return Answer("<h1>无效签名</h1>", 400, {"Content-Type": "text/html; charset=utf-8"})
        biz = json.loads(query["biz_content"])
        self.requests.append((query["method"], biz, True))
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width">'
            "<title>支付宝收银台</title></head><body style='font-family:sans-serif;margin:16px'>"
            "<h1 style='color:#0b58c4'>支付宝 · 收银台（测试替身）</h1>"
            f"<p class='subject'>{html.escape(biz['subject'])}</p>"
            f"<p class='amount' style='font-size:2rem'>¥{html.escape(biz['total_amount'])}</p>"
            f"<p class='order'>订单号 {html.escape(biz['out_trade_no'])}</p></body></html>"
        )
        return Answer(page, headers={"Content-Type": "text/html; charset=utf-8"})


def alipay_notification(keys, order: Order, *, trade_no: str) -> bytes:
    """Alipay's asynchronous notice that ``order`` was paid (trade ``trade_no``), form-encoded
    and RSA2-signed with ``keys["alipay"]``."""
    fields = {
        "notify_time": "2026-11-24 10:15:02",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "trade_no": trade_no,
        "out_trade_no": order.out_trade_no,
        "total_amount": f"{order.amount:.2f}",
        "receipt_amount": f"{order.amount:.2f}",
        "buyer_pay_amount": f"{order.amount:.2f}",
        "trade_status": "TRADE_SUCCESS",
        "gmt_create": "2026-11-24 10:14:50",
        "gmt_payment": "2026-11-24 10:15:01",
        "subject": "挂号费",
    }
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "sign_type")
    fields["sign"] = sign(keys["alipay"], unsigned)
    return urlencode(fields).encode()


@pytest.fixture(scope="module")
def alipay_keys() -> dict[str, rsa.RSAPrivateKey]:
    """The app's key and Alipay's."""
    return new_keys("app", "alipay")


@pytest.fixture
def alipay_also(settings, alipay_keys):
    """Alipay set up beside the clinic's gateway (which stays what it is); its adapter."""
    settings.MEDBOOK_ALIPAY_APP_ID = APP_ID
    settings.MEDBOOK_ALIPAY_PRIVATE_KEY = private_pem(alipay_keys["app"])
    settings.MEDBOOK_ALIPAY_PUBLIC_KEY = public_pem(alipay_keys["alipay"])
    return get_gateway("alipay")


@pytest.fixture
def alipay_cashier(alipay_keys, settings):
    """The Alipay stand-in served locally, MedBook's Alipay endpoint pointing at it."""
    with serving(AlipayCashier(alipay_keys)) as fake:
        settings.MEDBOOK_ALIPAY_GATEWAY_URL = f"{fake.url}/gateway.do"
        yield fake
