"""WeChat Pay by QR code in a real browser (375 px, then 1280 px): the member presses "pay" on a
WeChat order, sees the QR code of the stand-in's prepay order, the amount and the time left; when
WeChat Pay's signed notification reaches the live server, the page moves on to the confirmed
appointment by itself. Screenshots: test-results/screenshots/wechat-*.png."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from appointments.choices import AppointmentStatus
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.billing.wechat_pay import NOTIFY_URL, notification, signed_headers
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def member_with_password(name: str, level):
    member = MemberFactory(name=name, level=level)
    member.user.set_password(PASSWORD)
    member.user.save()
    return member


def log_in(page, member) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def test_a_member_pays_by_wechat_qr_and_the_page_moves_on(
    page, live_server, wechat, fake_wechat, wechat_keys, levels
) -> None:
    member = member_with_password("周芷若", levels["普通"])
    appointment = book(member, ScheduleFactory(fee=Decimal("60.00")))
    log_in(page, member)

    page.goto(page.base_url + f"/appointments/{appointment.pk}/")
    page.click(f"a[href='/appointments/{appointment.pk}/pay/']")
    page.wait_for_url(page.base_url + f"/appointments/{appointment.pk}/pay/wechat/")
    qr = page.locator("img.wechat-qr")
    qr.wait_for()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    box = qr.bounding_box()
    assert box["width"] >= 180 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.locator(".wechat-amount").inner_text() == "¥60.00"
    page.wait_for_function(
        "document.querySelector('[data-countdown]').textContent.match(/^0:1\\d:\\d\\d$/)"
    )
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshot(page, "wechat-01-qr-375")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "wechat-02-qr-1280")

    body = notification(appointment.order)
    answer = requests.post(
        live_server.url + NOTIFY_URL,
        data=body.encode(),
        headers={**signed_headers(wechat_keys["wechat"], body), "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 204

    page.wait_for_url(page.base_url + f"/appointments/{appointment.pk}/", timeout=10_000)
    page.wait_for_selector(".notice.ok")
    screenshot(page, "wechat-03-paid")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_in_the_demo_a_member_chooses_wechat_and_pays_on_the_stand_ins_page(
    page, wechat_standin, levels
) -> None:
    """The demo's journey (``dev.py run`` pays WeChat orders through its stand-in): the
    member chooses WeChat Pay beside the clinic's gateway, opens the QR code's page on the same
    device, confirms there; the checkout page moves on to the confirmed appointment."""
    member = member_with_password("赵敏", levels["普通"])
    appointment = book(member, ScheduleFactory(fee=Decimal("45.00")))
    assert appointment.order.gateway == "sandbox"
    log_in(page, member)

    page.goto(page.base_url + f"/appointments/{appointment.pk}/pay/")
    screenshot(page, "wechat-demo-01-choose-375")
    page.click("button.pay-wechat")
    page.wait_for_url(page.base_url + f"/appointments/{appointment.pk}/pay/wechat/")
    page.locator("img.wechat-qr").wait_for()
    assert page.locator(".wechat-amount").inner_text() == "¥45.00"
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="手边没有手机？在本机打开付款页").click()
    sheet = opened.value
    sheet.wait_for_load_state()
    assert sheet.url.startswith(wechat_standin.public_url + "/pay/")
    assert "¥45.00" in sheet.inner_text("main")
    assert sheet.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(sheet, "wechat-demo-02-standin-375")
    sheet.get_by_role("button", name="确认支付").click()
    sheet.get_by_text("支付成功").wait_for()
    screenshot(sheet, "wechat-demo-03-standin-paid")

    page.wait_for_url(page.base_url + f"/appointments/{appointment.pk}/", timeout=15_000)
    page.wait_for_selector(".notice.ok")
    screenshot(page, "wechat-demo-04-confirmed")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.order.gateway == "wechat"
