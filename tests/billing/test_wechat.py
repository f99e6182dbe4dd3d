"""The WeChat Pay v3 adapter with keys made here and payloads in WeChat Pay's documented shapes:
signed, AES-GCM-encrypted notifications, and refunds through a local stand-in of the API.
Nothing reaches the internet."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appointments.choices import AppointmentStatus, Channel
from billing import services
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import GatewayError, get_gateway
from billing.models import GatewayNotification, Order
from tests.appointments.factories import ScheduleFactory
from tests.billing.rsa_keys import new_key, pem_pair, sign

pytestmark = [pytest.mark.core, pytest.mark.django_db]

APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"  # 32 characters, as WeChat Pay issues them
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
NOTIFY_URL = "/payments/notify/wechat/"


def signed_headers(key, body: str, *, timestamp: int | None = None, serial=PUBLIC_KEY_ID) -> dict:
    stamp, nonce = str(timestamp or int(time.time())), uuid.uuid4().hex
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(key, f"{stamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {
        "merchant": new_key(),
        "wechat": new_key(),
    }


@pytest.fixture
def wechat(settings, keys):
    merchant_private, _ = pem_pair(keys["merchant"])
    _, wechat_public = pem_pair(keys["wechat"])
    settings.MEDBOOK_WECHAT_MCH_ID = "1900000109"
    settings.MEDBOOK_WECHAT_APP_ID = "wxd678efh567hg6787"
    settings.MEDBOOK_WECHAT_PRIVATE_KEY = merchant_private
    settings.MEDBOOK_WECHAT_CERT_SERIAL_NO = "444F4864EA9B34415A1B2C3D4E5F60718293A4B5"
    settings.MEDBOOK_WECHAT_APIV3_KEY = APIV3_KEY
    settings.MEDBOOK_WECHAT_PUBLIC_KEY = wechat_public
    settings.MEDBOOK_WECHAT_PUBLIC_KEY_ID = PUBLIC_KEY_ID
    settings.MEDBOOK_PAYMENT_GATEWAY = "wechat"
    return get_gateway("wechat")


@pytest.fixture
def order(wechat, member) -> Order:
    return services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("50.00")), channel=Channel.WEB
    ).order


def notification(order: Order, *, key: str = APIV3_KEY, state: str = "SUCCESS") -> str:
    transaction = {
        "mchid": "1900000109",
        "appid": "wxd678efh567hg6787",
        "out_trade_no": order.out_trade_no,
        "transaction_id": "4200000000202611240000000001",
        "trade_type": "NATIVE",
        "trade_state": state,
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-24T10:15:01+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 5000, "payer_total": 5000, "currency": "CNY", "payer_currency": "CNY"},
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


def post(client, body: str, headers: dict):
    return client.post(NOTIFY_URL, body.encode(), content_type="application/json", headers=headers)


def test_a_verified_notification_pays_the_order(client, keys, order) -> None:
    body = notification(order)

    response = post(client, body, signed_headers(keys["wechat"], body))

    assert response.status_code == 204
    order.refresh_from_db()
    assert (order.status, order.gateway_trade_no) == (
        OrderStatus.PAID,
        "4200000000202611240000000001",
    )
    assert order.appointment.status == AppointmentStatus.CONFIRMED


@pytest.mark.parametrize(
    "spoil",
    ["body", "apiv3-key", "signer", "serial", "stale"],
)
def test_a_notification_that_fails_any_check_changes_nothing(client, keys, order, spoil) -> None:
    body = notification(order, key="x" * 32 if spoil == "apiv3-key" else APIV3_KEY)
    signer = new_key()
    headers = signed_headers(
        signer if spoil == "signer" else keys["wechat"],
        body,
        timestamp=int(time.time()) - 3600 if spoil == "stale" else None,
        serial="PUB_KEY_ID_SOMEONE_ELSE" if spoil == "serial" else PUBLIC_KEY_ID,
    )
    if spoil == "body":
        body = body.replace("支付成功", "支付成功!")

    response = post(client, body, headers)

    assert response.status_code == 400
    assert Order.objects.get().status == OrderStatus.UNPAID
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.BAD_SIGNATURE


def test_a_notice_that_is_not_a_success_is_acknowledged_only(client, keys, order) -> None:
    body = notification(order, state="NOTPAY")

    assert post(client, body, signed_headers(keys["wechat"], body)).status_code == 204
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.IGNORED
    assert Order.objects.get().status == OrderStatus.UNPAID


class FakeWechatPay(BaseHTTPRequestHandler):
    """Answers POST /v3/refund/domestic/refunds as WeChat Pay does, with a signed response."""

    keys: dict = {}
    requests: list = []
    paid: dict = {}  # out_trade_no -> (transaction_id, total in cents) the query reports

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.requests.append((self.path, json.loads(raw), self.headers["Authorization"]))
        request = json.loads(raw)
        answer = json.dumps(
            {
                "refund_id": "50000000382019052709732678859",
                "out_refund_no": request["out_refund_no"],
                "transaction_id": request["transaction_id"],
                "channel": "ORIGINAL",
                "status": "PROCESSING",
                "amount": {**request["amount"], "payer_refund": request["amount"]["refund"]},
            }
        )
        self.send_response(200)
        for name, value in signed_headers(self.keys["wechat"], answer).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def do_GET(self) -> None:
        """GET /v3/pay/transactions/out-trade-no/<no>: a trade in ``paid`` or 404."""
        self.requests.append((self.path, None, self.headers["Authorization"]))
        out_trade_no = self.path.split("?")[0].rsplit("/", 1)[-1]
        paid = self.paid.get(out_trade_no)
        if paid is None:
            status, answer = 404, json.dumps({"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        else:
            status, answer = (
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
        self.send_response(status)
        for name, value in signed_headers(self.keys["wechat"], answer).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_wechat(keys, settings):
    FakeWechatPay.keys, FakeWechatPay.requests, FakeWechatPay.paid = keys, [], {}
    server = HTTPServer(("127.0.0.1", 0), FakeWechatPay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MEDBOOK_WECHAT_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}"
    yield FakeWechatPay
    server.shutdown()


def test_a_refund_is_a_signed_request_with_a_verified_answer(
    client, keys, fake_wechat, wechat, order
) -> None:
    body = notification(order)
    post(client, body, signed_headers(keys["wechat"], body))
    order.refresh_from_db()
    refund = services.request_refund(order=order, reason="取消预约", amount=Decimal("20.00"))

    services.carry_out_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert (refund.status, refund.gateway_refund_no) == (
        RefundStatus.SUCCEEDED,
        "50000000382019052709732678859",
    )
    [(path, sent, authorization)] = fake_wechat.requests
    assert path == "/v3/refund/domestic/refunds"
    assert sent["amount"] == {"refund": 2000, "total": 5000, "currency": "CNY"}
    assert sent["out_refund_no"] == refund.out_refund_no
    assert authorization.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000109"')


def test_an_answer_not_signed_by_wechat_pay_is_not_trusted(
    client, keys, fake_wechat, wechat, order
) -> None:
    body = notification(order)
    post(client, body, signed_headers(keys["wechat"], body))
    order.refresh_from_db()
    refund = services.request_refund(order=order, reason="取消预约")
    fake_wechat.keys = {"wechat": new_key()}

    with pytest.raises(GatewayError):
        services.carry_out_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert Order.objects.get().refunded_amount == 0


def test_wechat_pay_is_asked_whether_an_order_closed_unpaid_was_paid(
    keys, fake_wechat, wechat, order
) -> None:
    gateway = get_gateway("wechat")
    assert gateway.query_payment(out_trade_no=order.out_trade_no) is None

    fake_wechat.paid[order.out_trade_no] = ("4200000000202611240000000001", 5000)
    notice = gateway.query_payment(out_trade_no=order.out_trade_no)

    assert (notice.gateway_trade_no, notice.amount) == (
        "4200000000202611240000000001",
        Decimal("50.00"),
    )
    path = fake_wechat.requests[-1][0]
    assert path.startswith(f"/v3/pay/transactions/out-trade-no/{order.out_trade_no}")
