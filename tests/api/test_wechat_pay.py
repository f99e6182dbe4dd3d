"""Issue 14 (part 3) / 19 (part 5): POST /api/v1/appointments/<id>/pay/ for a WeChat Pay order
places a prepay order with the local WeChat Pay stand-in (signed both ways) and answers what the
app needs: the QR code's code_url (Native), or the prepay id with the signed parameters of the
JSAPI call or of the App SDK."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.choices import AppointmentStatus
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.billing.providers import new_key, verify
from tests.billing.wechat_pay import APP_ID, MCH_ID, beijing, notify

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
PAYMENT_FIELDS = {
    "method",
    "gateway",
    "out_trade_no",
    "amount",
    "expires_at",
    "url",
    "order_string",
    "code_url",
    "prepay_id",
    "jsapi",
    "app",
}


@pytest.fixture
def appointment(wechat, fake_wechat, member):
    """Member A's unpaid booking, a WeChat Pay order of ¥80."""
    booked = book(member, ScheduleFactory(fee=Decimal("80.00")))
    assert booked.order.gateway == "wechat"
    return booked


def pay(client, member, appointment, method: str, **more):
    return call(
        client,
        "post",
        "appointment_pay",
        {"method": method, **more},
        token=pair_for(member.user).access,
        args=[appointment.pk],
    )


def test_wechat_native_gives_the_code_url(client, member, appointment, fake_wechat) -> None:
    response = pay(client, member, appointment, "wechat_native")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAYMENT_FIELDS
    order = appointment.order
    assert body["code_url"] == f"weixin://wxpay/bizpayurl?pr={order.out_trade_no[-7:]}"
    assert (body["gateway"], body["amount"], body["out_trade_no"]) == (
        "wechat",
        "80.00",
        order.out_trade_no,
    )
    assert (body["url"], body["order_string"], body["prepay_id"]) == ("", "", "")
    assert body["jsapi"] is None and body["app"] is None
    [(path, sent, _)] = fake_wechat.requests
    assert path == "/v3/pay/transactions/native"
    assert sent["amount"] == {"total": 8000, "currency": "CNY"}
    assert sent["time_expire"] == beijing(order.expires_at)
    assert sent["notify_url"].endswith("/payments/notify/wechat/")


def test_wechat_jsapi_gives_the_signed_bridge_parameters(
    client, member, appointment, fake_wechat, wechat_keys
) -> None:
    body = pay(client, member, appointment, "wechat_jsapi", openid=OPENID).json()

    jsapi = body["jsapi"]
    assert body["prepay_id"] and jsapi["package"] == f"prepay_id={body['prepay_id']}"
    assert (jsapi["appId"], jsapi["signType"]) == (APP_ID, "RSA")
    message = f"{APP_ID}\n{jsapi['timeStamp']}\n{jsapi['nonceStr']}\n{jsapi['package']}\n"
    assert verify(wechat_keys["merchant"], message, jsapi["paySign"])
    assert body["app"] is None and body["code_url"] == ""
    assert fake_wechat.prepaid[appointment.order.out_trade_no]["payer"] == {"openid": OPENID}


def test_wechat_app_gives_the_signed_sdk_parameters(
    client, member, appointment, wechat_keys
) -> None:
    body = pay(client, member, appointment, "wechat_app").json()

    app = body["app"]
    assert (app["appid"], app["partnerid"], app["prepayid"], app["package"]) == (
        APP_ID,
        MCH_ID,
        body["prepay_id"],
        "Sign=WXPay",
    )
    message = f"{APP_ID}\n{app['timestamp']}\n{app['noncestr']}\n{app['prepayid']}\n"
    assert verify(wechat_keys["merchant"], message, app["sign"])
    assert body["jsapi"] is None


def test_jsapi_without_an_openid_is_a_400_that_sends_nothing(
    client, member, appointment, fake_wechat
) -> None:
    for more in ({}, {"openid": ""}):
        response = pay(client, member, appointment, "wechat_jsapi", **more)
        assert error(response) == (400, "openid_required")
        assert response.json()["error"]["fields"] == {
            "openid": [response.json()["error"]["message"]]
        }
    assert "openid" in response.json()["error"]["message"]
    assert error(pay(client, member, appointment, "wechat_jsapi", openid="o p")) == (
        400,
        "invalid",
    )
    assert fake_wechat.requests == [] and fake_wechat.refused == []


def test_other_gateways_methods_are_refused_for_a_wechat_order(
    client, member, appointment, fake_wechat
) -> None:
    for method in ("sandbox", "alipay_page", "alipay_app"):
        assert error(pay(client, member, appointment, method)) == (409, "gateway_unavailable")
    assert fake_wechat.requests == []


def test_wechat_pay_down_or_not_signing_is_a_409_gateway_unavailable(
    client, member, appointment, fake_wechat
) -> None:
    fake_wechat.keys = {**fake_wechat.keys, "wechat": new_key()}  # an answer we cannot trust

    assert error(pay(client, member, appointment, "wechat_native")) == (409, "gateway_unavailable")


def test_paid_by_the_notification_the_order_is_no_longer_payable(
    client, member, appointment, wechat_keys
) -> None:
    pay(client, member, appointment, "wechat_native")
    appointment.order.amount = Decimal("80.00")
    assert notify(client, wechat_keys, appointment.order).status_code == 204

    detail = call(
        client, "get", "appointment", token=pair_for(member.user).access, args=[appointment.pk]
    ).json()
    assert detail["status"] == AppointmentStatus.CONFIRMED and detail["can_pay"] is False
    assert error(pay(client, member, appointment, "wechat_native")) == (409, "already_paid")


def test_another_members_appointment_is_a_404(client, other_member, appointment) -> None:
    response = pay(client, other_member, appointment, "wechat_native")
    assert error(response) == (404, "not_found")
