"""Issue 19 part 4 at 375 px: a member adds a medical insurance card to themselves (a bad
number refused with its message first), books a paid session, sees the split in words on the
cashier, and pays only the self-pay share. Screenshots under test-results/screenshots
(insurance-*.png)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import InsuranceClaim, Order, SandboxTrade
from members.models import InsuranceCard
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.insurance_fixtures import plan
from tests.browser.conftest import screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def _no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _log_in(page, member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def test_an_insured_member_pays_only_the_self_pay_share(page, levels) -> None:
    plan(ratio="0.70", personal="0.50")
    doctor = DoctorFactory(name="陈明", department=DepartmentFactory(name="内科"))
    session = ScheduleFactory(
        doctor=doctor, date=timezone.localdate() + dt.timedelta(days=2), fee=Decimal("100.00")
    )
    member = MemberFactory(name="王芳", level=levels["普通"])
    _log_in(page, member)

    page.goto(page.base_url + "/profile/patients/")
    page.locator(".patient").first.get_by_role("link", name="医保").click()
    page.get_by_label("医保类型").select_option("employee")
    page.get_by_label("医保机构").select_option("sandbox")
    page.get_by_label("参保地").fill("北京市")
    page.get_by_label("卡号").fill("12#4")
    page.get_by_role("button", name="保存医保卡").click()
    assert "医保卡号由 8 到 20 位字母和数字组成" in page.locator("main").inner_text()
    assert not InsuranceCard.objects.exists()
    assert _no_sideways_scrolling(page)
    screenshot(page, "insurance-01-refused")
    page.get_by_label("卡号").fill("BJ1234567890")
    page.get_by_role("button", name="保存医保卡").click()
    page.wait_for_url("**/profile/patients/")
    listed = page.locator(".patient-list").inner_text()
    assert "职工基本医疗保险" in listed and "BJ1234567890" not in listed
    assert _no_sideways_scrolling(page)
    screenshot(page, "insurance-02-card")

    page.goto(page.base_url + f"/doctors/{doctor.pk}/")
    page.locator(f"#schedule-{session.pk}").get_by_role("link", name="预约").click()
    page.get_by_role("button", name="预约并支付").click()
    page.wait_for_selector("[data-insurance-split]")
    split = page.locator("[data-insurance-split]").inner_text()
    assert "医保统筹支付 ¥70.00，个人账户 ¥15.00，您需支付 ¥15.00" in split
    assert page.locator(".amount").inner_text() == "¥15.00"
    assert _no_sideways_scrolling(page)
    screenshot(page, "insurance-03-cashier")

    page.get_by_role("button", name="确认支付").click()
    page.wait_for_selector(".notice.ok[role=status]")
    order = Order.objects.get(appointment__schedule=session)
    assert SandboxTrade.objects.get(out_trade_no=order.out_trade_no).amount == Decimal("15.00")
    assert InsuranceClaim.objects.get(order=order).fund == Decimal("70.00")
    screenshot(page, "insurance-04-paid")

    page.goto(page.base_url + f"/appointments/{order.appointment_id}/")
    assert "您需支付 ¥15.00" in page.locator("[data-insurance-split]").inner_text()
    assert _no_sideways_scrolling(page)
    screenshot(page, "insurance-05-ticket")
