"""Issue 19 (part 5): POST /api/v1/appointments/<id>/pay/ with ``gateway`` — the member's app
chooses Alipay or WeChat Pay (both set up, with their local stand-ins): the unpaid order switches
to it and the answer is that gateway's (Alipay's page URL, WeChat Pay's code_url or JSAPI
prepay). A gateway not offered, or a method not of it, is a 400 that changes nothing."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import pytest

from billing.models import Order
from medbook.models import OperationLog
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.billing.wechat_pay import notify

pytestmark = pytest.mark.django_db

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
def appointment(wechat, fake_wechat, alipay_also, alipay_cashier, member):
    """Member A's unpaid ¥80 booking, opened as a WeChat Pay order; Alipay is set up too."""
    return book(member, ScheduleFactory(fee=Decimal("80.00")))


def pay(client, user, appointment, body: dict, *, second_factor: bool = False):
    token = pair_for(user, second_factor=second_factor).access if user else None
    return call(client, "post", "appointment_pay", body, token=token, args=[appointment.pk])


def gateway_of(appointment) -> str:
    return Order.objects.get(appointment=appointment).gateway


def test_choosing_alipay_switches_the_order_and_gives_alipays_page(
    client, member, appointment, alipay_cashier
) -> None:
    response = pay(client, member.user, appointment, {"gateway": "alipay"})

    assert response.status_code == 200
    body = response.json()
    assert (body["gateway"], body["method"]) == ("alipay", "alipay_page")
    assert body["url"].startswith(alipay_cashier.url + "/gateway.do?")
    assert dict(parse_qsl(urlparse(body["url"]).query))["method"] == "alipay.trade.page.pay"
    assert gateway_of(appointment) == "alipay"


def test_choosing_wechat_again_gives_the_native_code_or_a_jsapi_prepay(
    client, member, appointment, fake_wechat
) -> None:
    pay(client, member.user, appointment, {"gateway": "alipay"})

    native = pay(client, member.user, appointment, {"gateway": "wechat"}).json()
    jsapi = pay(
        client,
        member.user,
        appointment,
        {"gateway": "wechat", "method": "wechat_jsapi", "openid": OPENID},
    ).json()

    assert (native["gateway"], native["method"]) == ("wechat", "wechat_native")
    assert native["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert (jsapi["method"], jsapi["jsapi"]["package"]) == (
        "wechat_jsapi",
        f"prepay_id={jsapi['prepay_id']}",
    )
    assert gateway_of(appointment) == "wechat"
    assert OperationLog.objects.filter(action="billing.choose_gateway").count() == 2


def test_without_gateway_the_method_works_as_before(client, member, appointment) -> None:
    response = pay(client, member.user, appointment, {"method": "wechat_native"})
    assert response.status_code == 200 and response.json()["gateway"] == "wechat"
    refused = pay(client, member.user, appointment, {"method": "alipay_page"})
    assert error(refused) == (409, "gateway_unavailable")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gateway": "paypal"}, "gateway"),
        ({"gateway": "counter"}, "gateway"),
        ({"gateway": "sandbox"}, "gateway"),
        ({"gateway": ["alipay"]}, "gateway"),
        ({"gateway": "alipay", "method": "wechat_native"}, "method"),
        ({}, "method"),
    ],
)
def test_bad_input_is_a_400_and_switches_nothing(
    client, member, appointment, fake_wechat, body, field
) -> None:
    response = pay(client, member.user, appointment, body)

    assert error(response) == (400, "invalid")
    assert field in response.json()["error"]["fields"]
    assert gateway_of(appointment) == "wechat"
    assert not fake_wechat.requests
    assert not OperationLog.objects.filter(action="billing.choose_gateway").exists()


def test_jsapi_without_openid_switches_nothing(client, member, appointment) -> None:
    pay(client, member.user, appointment, {"gateway": "alipay"})
    response = pay(
        client, member.user, appointment, {"gateway": "wechat", "method": "wechat_jsapi"}
    )
    assert error(response) == (400, "openid_required")
    assert gateway_of(appointment) == "alipay"


def test_a_paid_order_cannot_switch(client, member, appointment, wechat_keys) -> None:
    notify(client, wechat_keys, appointment.order)

    response = pay(client, member.user, appointment, {"gateway": "alipay"})

    assert error(response) == (409, "already_paid")
    assert gateway_of(appointment) == "wechat"


def test_who_may_choose(
    client, member, other_member, front_desk, doctor_user, clinic_admin, appointment
) -> None:
    body = {"gateway": "alipay"}
    assert error(pay(client, None, appointment, body)) == (401, "not_authenticated")
    assert error(pay(client, other_member.user, appointment, body)) == (404, "not_found")
    for staff in (front_desk, doctor_user, clinic_admin):
        refused = pay(client, staff, appointment, body, second_factor=True)
        assert error(refused) == (403, "permission_denied")
    assert gateway_of(appointment) == "wechat"
    assert pay(client, member.user, appointment, body).status_code == 200
    assert gateway_of(appointment) == "alipay"
