"""The Alipay adapter with keys made here and payloads in Alipay's documented shapes: RSA2
notifications verified, page-pay requests signed, refunds through a local stand-in of Alipay's
open API. Nothing reaches the internet."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from appointments.choices import AppointmentStatus
from billing import services
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import get_gateway
from billing.models import GatewayNotification, Order, Refund
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
    verify,
)

pytestmark = [pytest.mark.core, pytest.mark.django_db]

APP_ID = "2021000000000001"
NOTIFY_URL = "/payments/notify/alipay/"


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return new_keys("app", "alipay")


@pytest.fixture
def alipay(settings, keys):
    return use_gateway(
        settings,
        "alipay",
        MEDBOOK_ALIPAY_APP_ID=APP_ID,
        MEDBOOK_ALIPAY_PRIVATE_KEY=private_pem(keys["app"]),
        MEDBOOK_ALIPAY_PUBLIC_KEY=public_pem(keys["alipay"]),
    )


@pytest.fixture
def order(alipay, member) -> Order:
    return unpaid_order(member)


def notify_body(keys, order: Order, **overrides: str) -> bytes:
    """An asynchronous notification as Alipay posts it (form-encoded, RSA2-signed)."""
    fields = {
        "notify_time": "2026-11-24 10:15:02",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "trade_no": "2026112422001448621414433777",
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
    fields.update(overrides)
    return urlencode(fields).encode()


def post(client, body: bytes):
    return client.post(NOTIFY_URL, body, content_type="application/x-www-form-urlencoded")


def test_a_verified_notification_pays_the_order(client, keys, order) -> None:
    response = post(client, notify_body(keys, order))

    assert (response.status_code, response.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.gateway_trade_no == "2026112422001448621414433777"
    assert order.appointment.status == AppointmentStatus.CONFIRMED


@pytest.mark.parametrize(
    "tamper",
    [{"total_amount": "0.01"}, {"out_trade_no": "MB000"}, {"sign": "AAAA"}],
    ids=["amount", "order", "signature"],
)
def test_a_tampered_notification_is_refused(client, keys, order, tamper) -> None:
    response = post(client, notify_body(keys, order, **tamper))

    assert response.content == b"fail"
    order.refresh_from_db()
    assert order.status == OrderStatus.UNPAID
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.BAD_SIGNATURE


def test_a_notification_signed_by_someone_else_is_refused(client, keys, order) -> None:
    forged = notify_body({"alipay": new_key()}, order)

    assert post(client, forged).content == b"fail"
    assert Order.objects.get().status == OrderStatus.UNPAID


def test_a_closed_trade_notice_is_acknowledged_and_changes_nothing(client, keys, order) -> None:
    fields = dict(parse_qsl(notify_body(keys, order).decode()))
    fields["trade_status"] = "TRADE_CLOSED"
    unsigned = "&".join(
        f"{k}={v}" for k, v in sorted(fields.items()) if k not in {"sign", "sign_type"}
    )
    fields["sign"] = sign(keys["alipay"], unsigned)

    response = post(client, urlencode(fields).encode())

    assert response.content == b"success"
    assert GatewayNotification.objects.get().outcome == NotificationOutcome.IGNORED
    assert Order.objects.get().status == OrderStatus.UNPAID


def test_the_checkout_url_is_signed_by_the_app(alipay, keys, order) -> None:
    url = alipay.checkout_url(
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        subject="挂号费",
        expires_at=dt.datetime(2026, 11, 24, 2, 15, tzinfo=dt.UTC),
    )

    query = dict(parse_qsl(urlparse(url).query))
    signature = query.pop("sign")
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    assert verify(keys["app"], unsigned, signature)
    assert query["method"] == "alipay.trade.page.pay"
    assert json.loads(query["biz_content"])["out_trade_no"] == order.out_trade_no
    # Closed by Alipay at the hold's end, in Beijing time (UTC+8) without an offset.
    assert json.loads(query["biz_content"])["time_expire"] == "2026-11-24 10:15:00"


class FakeAlipay(FakeProvider):
    """Answers alipay.trade.refund and alipay.trade.query the way Alipay's open API does, signed
    with its key. Records (method, biz_content, whether the app's signature verified); ``paid``
    is out_trade_no -> (trade_no, amount) that alipay.trade.query reports."""

    def answer(self, request: Request) -> Answer:
        query = dict(parse_qsl(urlparse(request.path).query))
        signature = query.pop("sign")
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
        biz = json.loads(query["biz_content"])
        self.requests.append((query["method"], biz, verify(self.keys["app"], unsigned, signature)))
        if query["method"] == "alipay.trade.query":
            return self.answer_query(biz)
        return self.signed(
            "alipay_trade_refund_response",
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": "2026112422001448621414433777",
                "out_trade_no": biz["out_trade_no"],
                "refund_fee": biz["refund_amount"],
                "fund_change": "Y",
            },
        )

    def answer_query(self, biz: dict) -> Answer:
        """alipay.trade.query: a trade in ``paid`` is TRADE_SUCCESS, any other does not exist."""
        paid = self.paid.get(biz["out_trade_no"])
        if paid is None:
            fields = {"code": "40004", "msg": "Business Failed"}
            fields |= {"sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        else:
            fields = {"code": "10000", "msg": "Success", "trade_status": "TRADE_SUCCESS"}
            fields |= {"out_trade_no": biz["out_trade_no"], "trade_no": paid[0]}
            fields |= {"total_amount": paid[1], "send_pay_date": "2026-11-24 10:15:00"}
        return self.signed("alipay_trade_query_response", fields)

    def signed(self, name: str, fields: dict) -> Answer:
        """The response under ``name``, signed over its exact text as Alipay signs it."""
        content = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        return Answer(
            f'{{"{name}":{content},"sign":"{sign(self.keys["alipay"], content)}"}}',
            headers={"Content-Type": "application/json;charset=utf-8"},
        )


@pytest.fixture
def fake_alipay(keys, settings):
    with serving(FakeAlipay(keys)) as fake:
        settings.MEDBOOK_ALIPAY_GATEWAY_URL = f"{fake.url}/gateway.do"
        yield fake


def test_a_refund_is_an_rsa2_signed_request_answered_and_verified(
    client, keys, fake_alipay, alipay, order
) -> None:
    post(client, notify_body(keys, order))
    order.refresh_from_db()
    refund = services.request_refund(order=order, reason="取消预约")

    services.carry_out_refund(refund_id=refund.pk)
    services.carry_out_refund(refund_id=refund.pk)  # done already: Alipay is not asked again

    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.gateway_refund_no.endswith(refund.out_refund_no)
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, order.amount)
    [(method, biz, signed)] = fake_alipay.requests
    assert (method, signed) == ("alipay.trade.refund", True)
    assert (biz["out_request_no"], biz["refund_amount"]) == (refund.out_refund_no, "50.00")
    assert Refund.objects.count() == 1


def test_the_gateway_is_asked_whether_an_order_closed_unpaid_was_paid(
    keys, fake_alipay, alipay, order
) -> None:
    gateway = get_gateway("alipay")
    assert gateway.query_payment(out_trade_no=order.out_trade_no) is None

    fake_alipay.paid[order.out_trade_no] = ("2026112422001448621414433999", "50.00")
    notice = gateway.query_payment(out_trade_no=order.out_trade_no)

    assert (notice.gateway_trade_no, notice.amount) == (
        "2026112422001448621414433999",
        Decimal("50.00"),
    )
    assert notice.paid_at.isoformat() == "2026-11-24T10:15:00+08:00"
    assert [(method, signed) for method, _, signed in fake_alipay.requests] == [
        ("alipay.trade.query", True)
    ] * 2
