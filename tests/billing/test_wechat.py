"""The WeChat Pay v3 adapter with keys made here and payloads in WeChat Pay's documented shapes:
signed, AES-GCM-encrypted notifications, and refunds through a local stand-in of the API.
Nothing reaches the internet."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appointments.choices import AppointmentStatus
from billing import services
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import GatewayError, get_gateway
from billing.models import GatewayNotification, Order
from tests.billing.factories import unpaid_order
from tests.billing.providers import (
    Answer,
    FakeProvider,
    Request,
    new_key,
    new_keys,
    private_pem,
    public_pem,
    serving,
    sign,
    use_gateway,
)

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
    return new_keys("merchant", "wechat")


@pytest.fixture
def wechat(settings, keys):
    return use_gateway(
        settings,
        "wechat",
        MEDBOOK_WECHAT_MCH_ID="1900000109",
        MEDBOOK_WECHAT_APP_ID="wxd678efh567hg6787",
        MEDBOOK_WECHAT_PRIVATE_KEY=private_pem(keys["merchant"]),
        MEDBOOK_WECHAT_CERT_SERIAL_NO="444F4864EA9B34415A1B2C3D4E5F60718293A4B5",
        MEDBOOK_WECHAT_APIV3_KEY=APIV3_KEY,
        MEDBOOK_WECHAT_PUBLIC_KEY=public_pem(keys["wechat"]),
        MEDBOOK_WECHAT_PUBLIC_KEY_ID=PUBLIC_KEY_ID,
    )


@pytest.fixture
def order(wechat, member) -> Order:
    return unpaid_order(member)


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


class FakeWechatPay(FakeProvider):
    """Answers POST /v3/refund/domestic/refunds and the order query as WeChat Pay does, with
    signed responses. Records (path, JSON sent or None, Authorization); ``paid`` is
    out_trade_no -> (transaction_id, total in cents) the query reports."""

    def answer(self, request: Request) -> Answer:
        if request.method == "GET":
            return self.answer_query(request)
        raw = request.body.decode()
        self.requests.append((request.path, json.loads(raw), request.headers["Authorization"]))
        sent = json.loads(raw)
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

    def signed(self, status: int, body: str) -> Answer:
        headers = signed_headers(self.keys["wechat"], body)
        return Answer(body, status, {**headers, "Content-Type": "application/json"})


@pytest.fixture
def fake_wechat(keys, settings):
    with serving(FakeWechatPay(keys)) as fake:
        settings.MEDBOOK_WECHAT_GATEWAY_URL = fake.url
        yield fake


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
