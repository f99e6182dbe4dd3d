"""A member past the failed-login limit logs in with the texted code and the password, on a
phone and on a desktop; the page fits both and has no accessibility violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_locked_member_logs_in_with_the_texted_code(
    page, levels, sms_log, settings, size, viewport
) -> None:
    page.set_viewport_size(viewport)
    member = MemberFactory(name="周琳", phone="+8613700002222", level=levels["普通"])
    member.user.set_password(PASSWORD)
    member.user.save()
    for password in ["wrong-1"] * settings.MEDBOOK_LOGIN_FAILURES + [PASSWORD]:
        page.goto(page.base_url + "/accounts/login/")
        page.get_by_label("手机号").fill("13700002222")
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
    page.wait_for_url(page.base_url + "/accounts/login/verify/")
    assert "137****2222" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    serious = [v["id"] for v in Axe().run(page).response["violations"]]
    assert serious == []
    screenshot(page, f"lockout-code-{size}")

    page.get_by_label("验证码").fill(sms_log.code())
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")
    assert "我的预约" in page.locator("nav.site-nav").inner_text()


def test_a_second_sign_up_of_a_number_gets_the_wait_page(page, levels) -> None:
    MemberFactory(phone="+8613900001111", level=levels["普通"])
    for _ in range(2):
        page.context.clear_cookies()  # a fresh visitor each time
        page.goto(page.base_url + "/accounts/signup/")
        page.get_by_label("姓名").fill("陈晓明")
        page.get_by_label("手机号").fill("13900001111")
        page.locator("input[name=password1]").fill(PASSWORD)
        page.locator("input[name=password2]").fill(PASSWORD)
        page.locator("input[name=accept_terms]").check()
        page.locator("input[name=accept_privacy]").check()
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="注册并获取验证码").click()
    assert navigation.value.status == 429
    assert "操作过于频繁" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert [v["id"] for v in Axe().run(page).response["violations"]] == []
    screenshot(page, "rate-limited-phone")
