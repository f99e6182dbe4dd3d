"""通知设置 in a real browser, at 375 px and 1280 px, in Chinese and English (screenshots
channels-*.png): a member turns reminder texts off and gives an e-mail address; a bad address
is shown on the form and nothing is saved."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from members.preferences import Choices, preferences_of
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_release_reminders import log_in
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = {
    "zh-hans": ("短信通知就诊提醒", "电子邮箱", "同时通过邮件接收消息", "保存", "通知设置已保存。"),
    "en": (
        "Text me reminders of my appointments",
        "E-mail address",
        "Send my messages by e-mail too",
        "Save",
        "Your notification settings were saved.",
    ),
}


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_member_chooses_their_channels(page, levels, size, viewport, language) -> None:
    page.set_viewport_size(viewport)
    member = MemberFactory(name="孙丽", level=levels["普通"])
    log_in(page, member)
    page.goto(page.base_url + "/profile/")
    if language == "en":
        with page.expect_navigation():
            page.select_option("#language", "en")
    reminders, address, by_email, save, saved = LABELS[language]
    page.get_by_role(
        "link", name="通知设置" if language == "zh-hans" else "Notification settings"
    ).click()

    page.get_by_label(address).fill("not an address")
    page.get_by_role("button", name=save).click()
    page.wait_for_load_state()
    assert preferences_of(member=member) == Choices()  # nothing saved
    assert page.locator(".has-error .error").count() == 1

    page.get_by_label(reminders).uncheck()
    page.get_by_label(address).fill("sunli@example.com")
    page.get_by_label(by_email).check()
    page.get_by_role("button", name=save).click()
    page.wait_for_load_state()

    assert saved in page.locator("body").inner_text()
    assert preferences_of(member=member) == Choices(sms_reminders=False)
    assert page.get_by_label(address).input_value() == "sunli@example.com"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"channels-{language}-{size}")
    # Checked without the flash: base.html's <ul role="status"> is a known axe finding.
    page.reload()
    assert [v["id"] for v in Axe().run(page).response["violations"]] == []
