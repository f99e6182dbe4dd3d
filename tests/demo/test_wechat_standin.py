"""The demo's WeChat Pay stand-in (demo/wechat_pay.py), served on a port and reached over HTTP
by MedBook's real WeChat Pay adapter with the keys it made, as ``dev.py run`` sets it up: a
Native order's QR code leads to its pay page; paying there notifies the live server, which
confirms the booking; the query, refunds and the refusals answer as WeChat Pay's do."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from django.utils import timezone

from appointments.choices import AppointmentStatus
from billing.gateways import GatewayError, PrepayKind, get_gateway
from billing.models import GatewayNotification, Order
from demo import wechat_pay
from demo.wechat_pay import Keys, WechatPayStandin
from tests import waiting
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(settings, wechat_standin) -> Order:
    """A WeChat order of a new booking (¥60.00), its Native prepay placed: on its pay page."""
    settings.MEDBOOK_PAYMENT_GATEWAY = "wechat"
    order = book(MemberFactory(), ScheduleFactory(fee=Decimal("60.00"))).order
    assert order.gateway == "wechat"
    return order


def prepay(order: Order, **changes) -> str:
    terms = {"amount": order.amount, "expires_at": order.expires_at, **changes}
    return (
        get_gateway("wechat")
        .prepay(
            kind=PrepayKind.NATIVE,
            out_trade_no=order.out_trade_no,
            description="MedBook 挂号费",
            **terms,
        )
        .code_url
    )


def test_paying_on_the_qr_codes_page_confirms_the_booking(wechat_standin, order) -> None:
    code_url = prepay(order)
    assert code_url == f"{wechat_standin.public_url}/pay/{order.out_trade_no}"
    sheet = requests.get(code_url, timeout=10)
    assert sheet.status_code == 200
    assert "¥60.00" in sheet.text and "确认支付" in sheet.text and "MedBook 挂号费" in sheet.text
    gateway = get_gateway("wechat")
    assert gateway.query_payment(out_trade_no=order.out_trade_no) is None  # NOTPAY

    paid = requests.post(code_url, timeout=10)

    assert "支付成功" in paid.text and "确认支付" not in paid.text
    appointment = order.appointment

    def confirmed() -> bool:
        appointment.refresh_from_db()
        return appointment.status == AppointmentStatus.CONFIRMED

    waiting.eventually(confirmed, 15, what="the notification confirming the booking")
    order.refresh_from_db()
    notice = gateway.query_payment(out_trade_no=order.out_trade_no)
    assert notice is not None and notice.amount == Decimal("60.00")
    assert order.gateway_trade_no == notice.gateway_trade_no
    assert requests.post(code_url, timeout=10).text.count("支付成功") == 1  # paid once


def test_a_double_tap_on_pay_pays_once(wechat_standin, order) -> None:
    code_url = prepay(order)
    start = threading.Barrier(8)

    def tap(_: int) -> None:
        start.wait()
        wechat_standin.pay(order.out_trade_no)  # what each POST of the pay page calls

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(tap, range(8)))

    assert "支付成功" in requests.get(code_url, timeout=10).text
    waiting.eventually(lambda: Order.objects.get(pk=order.pk).paid_at, 15, what="the payment")
    time.sleep(2)  # a second notification would come right after the first
    assert GatewayNotification.objects.filter(out_trade_no=order.out_trade_no).count() == 1
    assert not order.refunds.exists()  # a second payment would be refunded automatically


def test_refunds_are_accepted_up_to_what_was_paid_and_once_per_refund_number(
    wechat_standin, order
) -> None:
    requests.post(prepay(order), timeout=10)
    trade = wechat_standin.trades[order.out_trade_no]
    gateway = get_gateway("wechat")
    terms = {"out_trade_no": order.out_trade_no, "gateway_trade_no": trade["transaction_id"]}

    first = gateway.refund(
        **terms, out_refund_no="R1", amount=Decimal("40.00"), total=Decimal("60.00")
    )
    again = gateway.refund(
        **terms, out_refund_no="R1", amount=Decimal("40.00"), total=Decimal("60.00")
    )
    assert first == again  # a retried refund is the same refund
    with pytest.raises(GatewayError, match="403"):
        gateway.refund(**terms, out_refund_no="R2", amount=Decimal("30.00"), total=Decimal("60.00"))
    gateway.refund(**terms, out_refund_no="R3", amount=Decimal("20.00"), total=Decimal("60.00"))
    assert wechat_standin.trades[order.out_trade_no]["refunded"] == 6000


def test_a_code_past_its_time_cannot_be_paid(wechat_standin, order) -> None:
    code_url = prepay(order, expires_at=timezone.now() - dt.timedelta(seconds=1))

    answer = requests.post(code_url, timeout=10)

    assert "二维码已过期" in answer.text and "确认支付" not in answer.text
    assert wechat_standin.trades[order.out_trade_no]["state"] == "NOTPAY"
    assert get_gateway("wechat").query_payment(out_trade_no=order.out_trade_no) is None


def test_requests_not_signed_by_the_merchant_are_refused(wechat_standin, order) -> None:
    url = f"{wechat_standin.public_url}/v3/pay/transactions/native"
    body = json.dumps({"appid": wechat_pay.APP_ID, "mchid": wechat_pay.MCH_ID})
    forged = (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{wechat_pay.MCH_ID}",nonce_str="n",signature="AAAA",'
        f'timestamp="1",serial_no="{wechat_pay.CERT_SERIAL_NO}"'
    )

    for headers in ({}, {"Authorization": forged}):
        answer = requests.post(url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["code"] == "SIGN_ERROR"
    assert wechat_standin.trades == {}


def test_a_prepay_missing_what_wechat_pay_needs_is_refused(wechat_standin, order) -> None:
    with pytest.raises(GatewayError, match="PARAM_ERROR"):
        prepay(order, amount=Decimal("0.00"))
    assert order.out_trade_no not in wechat_standin.trades


def test_trades_outlive_a_restart_of_the_stand_in(wechat_standin, order) -> None:
    requests.post(prepay(order), timeout=10)

    again = WechatPayStandin(wechat_standin.keys, public_url="http://x", log=lambda line: None)

    assert again.trades[order.out_trade_no]["state"] == "SUCCESS"


def test_a_notification_is_sent_again_until_it_is_acknowledged(
    wechat_standin, order, monkeypatch
) -> None:
    answers = [503, 500, 204]
    seen: list[bool] = []

    class Merchant(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(json.loads(body)["event_type"] == "TRANSACTION.SUCCESS")
            self.send_response(answers[len(seen) - 1])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    merchant = HTTPServer(("127.0.0.1", 0), Merchant)
    threading.Thread(target=merchant.serve_forever, daemon=True).start()
    monkeypatch.setattr(wechat_pay, "NOTIFY_DELAYS", (0, 0, 0, 0))
    prepay(order)
    wechat_standin.trades[order.out_trade_no]["notify_url"] = (
        f"http://127.0.0.1:{merchant.server_port}/notify"
    )
    wechat_standin.trades[order.out_trade_no] |= {
        "state": "SUCCESS",
        "transaction_id": "4200000000000000000000000001",
        "success_time": "2026-12-01T10:00:00+08:00",
    }
    try:
        assert wechat_standin.notify(order.out_trade_no) is True
    finally:
        merchant.shutdown()
        merchant.server_close()
    assert seen == [True, True, True]


def test_its_keys_are_made_once_and_kept_private(tmp_path) -> None:
    keys = Keys(tmp_path / "wechat").ensure()
    made = {path.name: path.read_bytes() for path in keys.folder.iterdir()}

    Keys(tmp_path / "wechat").ensure()

    assert {path.name: path.read_bytes() for path in keys.folder.iterdir()} == made
    assert all(path.stat().st_mode & 0o077 == 0 for path in keys.folder.iterdir())
    assert len(keys.apiv3_key()) == 32
    assert set(keys.settings()) >= {"MEDBOOK_WECHAT_MCH_ID", "MEDBOOK_WECHAT_PRIVATE_KEY_FILE"}
