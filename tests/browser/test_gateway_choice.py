"""The member chooses how to pay, in a real browser at 375 px (issue 19 part 5): with WeChat Pay
and Alipay both set up, "pay" opens the choice; WeChat Pay shows the stand-in's QR code, "pay
another way" goes back, and Alipay sends the member on to Alipay's cashier (the local stand-in,
which checks the app's signature). Alipay's signed notice then confirms the appointment, paid
once. Screenshots: test-results/screenshots/paychoice-*.png."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe

from appointments.choices import AppointmentStatus
from billing.choices import OrderStatus
from billing.models import Refund
from tests.appointments.factories import ScheduleFactory
from tests.billing.alipay_pay import NOTIFY_URL, alipay_notification
from tests.billing.factories import book
from tests.browser.conftest import PHONE, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def axe_violations(page) -> list[str]:
    """axe-core's findings on the page, as tests/browser/test_accessibility.py judges them."""
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_member_picks_wechat_then_alipay_and_pays_once(
    page, live_server, wechat, fake_wechat, alipay_also, alipay_cashier, alipay_keys, levels
) -> None:
    member = MemberFactory(name="周芷若", level=levels["普通"])
    member.user.set_password(PASSWORD)
    member.user.save()
    appointment = book(member, ScheduleFactory(fee=Decimal("60.00")))
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")
    pay_url = page.base_url + f"/appointments/{appointment.pk}/pay/"

    page.goto(page.base_url + f"/appointments/{appointment.pk}/")
    page.click(f"a[href='/appointments/{appointment.pk}/pay/']")
    page.wait_for_url(pay_url)
    wechat_button = page.get_by_role("button", name="微信支付")
    alipay_button = page.get_by_role("button", name="支付宝")
    assert "扫一扫" in wechat_button.inner_text() and "支付宝" in alipay_button.inner_text()
    for button in (wechat_button, alipay_button):
        box = button.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    no_sideways_scroll(page)
    assert axe_violations(page) == []
    screenshot(page, "paychoice-01-choose-375")

    wechat_button.click()
    page.wait_for_url(pay_url + "wechat/")
    page.locator("img.wechat-qr").wait_for()
    no_sideways_scroll(page)
    screenshot(page, "paychoice-02-wechat-qr-375")

    page.get_by_role("link", name="换一种支付方式").click()
    page.wait_for_url(pay_url)
    page.get_by_role("button", name="支付宝").click()
    page.wait_for_url(alipay_cashier.url + "/gateway.do?**")
    assert page.locator(".amount").inner_text() == "¥60.00"
    screenshot(page, "paychoice-03-alipay-cashier-375")
    appointment.order.refresh_from_db()
    assert appointment.order.gateway == "alipay"

    answer = requests.post(
        live_server.url + NOTIFY_URL,
        data=alipay_notification(alipay_keys, appointment.order, trade_no="2026112422001400000001"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.text == "success"
    page.goto(page.base_url + f"/appointments/{appointment.pk}/")
    page.wait_for_selector(".notice.ok")
    no_sideways_scroll(page)
    screenshot(page, "paychoice-04-paid-375")
    appointment.refresh_from_db()
    appointment.order.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.order.status == OrderStatus.PAID
    assert not Refund.objects.exists()
