"""Consent and the member's data in a real browser at 375 px: sign up with the two ticks, the
first booking asks the sensitive-information consent and then goes on, the data download, a
new version of the terms asked at the next login, and closing the account. Screenshots under
test-results/screenshots (consent-*.png)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone

from demo import agreements
from members.consent import Agreement, Consent
from members.models import Member
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import PHONE, screenshot
from tests.members.agreements import publish

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.fixture
def session(levels):
    # The demo clinic's documents, as a member reads them.
    for kind, title, body in agreements.AGREEMENTS:
        Agreement.objects.create(
            kind=kind,
            version=agreements.VERSION,
            title=title,
            body=body,
            published_at=timezone.now() - dt.timedelta(days=1),
        )
    doctor = DoctorFactory(
        name="王建国",
        department=DepartmentFactory(name="心血管内科", code="cardiology"),
        registration_fee=Decimal("0"),
    )
    return ScheduleFactory(
        doctor=doctor, date=timezone.localdate() + dt.timedelta(days=3), fee=Decimal("0")
    )


def test_sign_up_with_ticks_first_booking_asks_consent_then_books_and_data_downloads(
    page, session, sms_log
) -> None:
    page.goto(page.base_url + "/accounts/signup/")
    page.get_by_label("姓名").fill("陈晓明")
    page.get_by_label("手机号").fill("139 1234 5678")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("密码（重复）").fill(PASSWORD)
    assert not page.locator("input[name=accept_terms]").is_checked()
    assert not page.locator("input[name=accept_privacy]").is_checked()
    assert "如果该号码已注册，您将收到登录提示短信" in page.locator("main").inner_text()
    # Without the ticks: refused, with what to do.
    page.get_by_role("button", name="注册并获取验证码").click()
    assert "请阅读并同意《用户协议》" in page.locator("main").inner_text()
    assert not Member.objects.exists()
    _fits(page)
    screenshot(page, "consent-01-signup-refused")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("input[name=accept_terms]").check()
    page.locator("input[name=accept_privacy]").check()
    screenshot(page, "consent-02-signup-ticked")
    page.get_by_role("button", name="注册并获取验证码").click()
    page.wait_for_url("**/accounts/phone/verify/")
    page.get_by_label("验证码").fill(sms_log.code())
    page.get_by_role("button", name="确认").click()
    page.wait_for_url(page.base_url + "/")
    member = Member.objects.get(name="陈晓明")
    assert set(Consent.objects.filter(user=member.user).values_list("kind", flat=True)) == {
        "terms",
        "privacy",
    }

    # The first booking: the sensitive-information consent first, then back to the booking.
    page.goto(page.base_url + f"/book/{session.pk}/")
    page.wait_for_url("**/account/consent/sensitive/**")
    assert "敏感个人信息处理单独同意书" in page.locator("main").inner_text()
    _fits(page)
    screenshot(page, "consent-03-sensitive")
    page.get_by_label("我同意按上述方式处理我的敏感个人信息").check()
    page.get_by_role("button", name="同意并继续预约").click()
    page.wait_for_url(f"**/book/{session.pk}/")
    screenshot(page, "consent-04-back-to-booking")
    page.get_by_role("button", name="预约").click()
    page.wait_for_url("**/appointments/*/")
    assert member.appointments.count() == 1
    screenshot(page, "consent-05-booked")

    # The data download from the profile.
    page.goto(page.base_url + "/profile/")
    _fits(page)
    screenshot(page, "consent-06-profile")
    page.get_by_role("link", name="下载我的数据").click()
    _fits(page)
    screenshot(page, "consent-07-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载（ZIP）").click()
    archive = zipfile.ZipFile(download.value.path())
    data = json.loads(archive.read("data.json"))
    assert data["profile"][0]["name"] == "陈晓明"
    assert len(data["appointments"]) == 1 and len(data["consents"]) == 3


def test_a_new_version_is_asked_at_login_and_the_account_can_be_closed(page, levels) -> None:
    from tests.members.agreements import consent
    from tests.members.factories import MemberFactory

    publish("terms", "1", ago=dt.timedelta(days=30))
    publish("privacy", "1", ago=dt.timedelta(days=30))
    member = MemberFactory(name="李雷", phone="+8613712345678")
    member.user.set_password(PASSWORD)
    member.user.save()
    consent(member.user)
    new = publish("terms", "2")

    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill("13712345678")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/account/consent/**")
    assert "我们更新了协议" in page.locator("main").inner_text()
    _fits(page)
    screenshot(page, "consent-08-new-version")
    page.get_by_label("我已阅读并同意以上文件").check()
    page.get_by_role("button", name="同意并继续").click()
    page.wait_for_url(page.base_url + "/")
    assert Consent.objects.filter(user=member.user, agreement=new).exists()

    page.goto(page.base_url + "/account/close/")
    _fits(page)
    screenshot(page, "consent-09-close")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("我了解账号将被永久注销，个人信息将被删除").check()
    page.get_by_role("button", name="注销账号").click()
    page.wait_for_url(page.base_url + "/")
    assert "您的账号已注销，个人信息已删除" in page.locator("main").inner_text()
    screenshot(page, "consent-10-closed")
    member.refresh_from_db()
    assert member.name.startswith("已注销会员") and not member.user.is_active
