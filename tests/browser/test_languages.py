"""The member's pages in each language, on a phone and a desktop: one script per page (the
screenshots are in test-results/screenshots/lang-*.png)."""

from __future__ import annotations

import pytest

from members.models import Message
from tests.billing.factories import book
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.i18n.test_mixed_scripts import (
    HAN,
    HAN_ALLOWED,
    WORD,
    WORDS_ALLOWED,
    bilingual_session,
)
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Medbook-test-1"


def test_the_members_pages_speak_one_language_on_a_phone_and_a_desktop(page, levels) -> None:
    member = MemberFactory(name="张三", level=levels["普通"])
    member.user.set_password(PASSWORD)
    member.user.save()
    schedule = bilingual_session()
    appointment = book(member, schedule)
    message = Message.objects.get(member=member)

    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")

    pages = {
        "messages": "/messages/",
        "message": f"/messages/{message.pk}/",
        "appointment": f"/appointments/{appointment.pk}/",
        "doctor": f"/doctors/{schedule.doctor_id}/",
    }
    mixed = {}
    for language, find, allowed in (("en", HAN, HAN_ALLOWED), ("zh-hans", WORD, WORDS_ALLOWED)):
        page.select_option("#language", language)
        page.wait_for_load_state("networkidle")
        for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            for name, path in pages.items():
                page.goto(page.base_url + path)
                screenshot(page, f"lang-{name}-{language}-{size_name}")
                bad = set(find.findall(page.inner_text("main"))) - allowed
                if bad:
                    mixed[f"{name} {language}"] = sorted(bad)
                assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert mixed == {}
