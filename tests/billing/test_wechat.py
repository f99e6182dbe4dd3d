"""The WeChat Pay v3 adapter with keys made here and payloads in WeChat Pay's documented shapes:
signed, AES-GCM-encrypted notifications, and refunds through a local stand-in of the API.
Nothing reaches the internet."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from appointments.choices import AppointmentStatus
from billing import services
from billing.choices import NotificationOutcome, OrderStatus, RefundStatus
from billing.gateways import GatewayError, PrepayKind, get_gateway
from billing.models import GatewayNotification, Order
from medbook import money
from tests.billing.factories import unpaid_order
from tests.billing.providers import new_key, private_pem, verify
from tests.billing.wechat_pay import (
    APIV3_KEY,
    APP_ID,
    MCH_ID,
    NOTIFY_URL,
    PUBLIC_KEY_ID,
    beijing,
    notification,
    signed_headers,
)

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def keys(wechat_keys):
    return wechat_keys


@pytest.fixture
def order(wechat, member) -> Order:
    return unpaid_order(member)


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


# -- prepay orders (online checkout) -----------------------------------------------------------


def _prepay(gateway, order: Order, kind: str, openid: str | None = None):
    return gateway.prepay(
        kind=kind,
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        description="心血管内科 张医生 11-24",
        expires_at=order.expires_at,
        payer_openid=openid,
    )


def test_a_native_prepay_is_a_signed_request_and_gives_the_code_url(
    fake_wechat, wechat, order
) -> None:
    prepay = _prepay(wechat, order, PrepayKind.NATIVE)

    assert prepay.code_url == f"weixin://wxpay/bizpayurl?pr={order.out_trade_no[-7:]}"
    [(path, sent, _)] = fake_wechat.requests  # the stand-in checked the merchant's signature
    assert path == "/v3/pay/transactions/native"
    assert sent == {
        "notify_url": "http://127.0.0.1:8000/payments/notify/wechat/",
        "description": "心血管内科 张医生 11-24",
        "out_trade_no": order.out_trade_no,
        "amount": {"total": money.to_cents(order.amount), "currency": "CNY"},
        "time_expire": beijing(order.expires_at),
        "appid": APP_ID,
        "mchid": MCH_ID,
    }


def test_a_jsapi_prepay_gives_parameters_signed_with_the_merchant_key(
    keys, fake_wechat, wechat, order
) -> None:
    prepay = _prepay(wechat, order, PrepayKind.JSAPI, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    [(path, sent, _)] = fake_wechat.requests
    assert path == "/v3/pay/transactions/jsapi"
    assert sent["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    params = prepay.params
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (params["appId"], params["package"], params["signType"]) == (
        APP_ID,
        f"prepay_id={prepay.prepay_id}",
        "RSA",
    )
    signed = f"{APP_ID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert verify(keys["merchant"], signed, params["paySign"])
    assert not verify(new_key(), signed, params["paySign"])


def test_an_app_prepay_gives_the_app_sdk_parameters_signed(
    keys, fake_wechat, wechat, order
) -> None:
    prepay = _prepay(wechat, order, PrepayKind.APP)

    assert fake_wechat.requests[0][0] == "/v3/pay/transactions/app"
    params = prepay.params
    assert params["prepayid"] == prepay.prepay_id and prepay.prepay_id.startswith("wx")
    assert (params["appid"], params["partnerid"], params["package"]) == (
        APP_ID,
        MCH_ID,
        "Sign=WXPay",
    )
    signed = f"{APP_ID}\n{params['timestamp']}\n{params['noncestr']}\n{params['prepayid']}\n"
    assert verify(keys["merchant"], signed, params["sign"])


def test_a_prepay_wechat_pay_refuses_or_does_not_sign_is_an_error(
    settings, keys, fake_wechat, wechat, order
) -> None:
    with pytest.raises(GatewayError):
        _prepay(wechat, order, PrepayKind.JSAPI)  # no openid: nothing is sent
    assert fake_wechat.requests == fake_wechat.refused == []

    settings.MEDBOOK_WECHAT_PRIVATE_KEY = private_pem(new_key())  # not the merchant's key
    with pytest.raises(GatewayError, match="401"):
        _prepay(get_gateway("wechat"), order, PrepayKind.NATIVE)
    assert fake_wechat.refused == [("/v3/pay/transactions/native", "SIGN_ERROR")]

    settings.MEDBOOK_WECHAT_PRIVATE_KEY = private_pem(keys["merchant"])
    fake_wechat.keys = {**keys, "wechat": new_key()}  # answers signed by someone else
    with pytest.raises(GatewayError, match="not verified"):
        _prepay(get_gateway("wechat"), order, PrepayKind.NATIVE)
