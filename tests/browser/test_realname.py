"""Real-name verification in Chromium at 375 px: a member verifies a parent online (the
sandbox matches), another patient's check fails with a message; the front desk verifies a
passport holder in person from the member's page. Screenshots: test-results/screenshots/
realname-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from medbook.roles import FRONT_DESK
from members.patients import add_patient
from tests.browser.conftest import screenshot
from tests.browser.test_portal_journeys import _log_in
from tests.browser.test_staff_journeys import log_in, person
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_member_verifies_a_parent_online(page, levels) -> None:
    member = MemberFactory()
    parent = add_patient(
        member=member, name="张伟", relation="parent", id_number="310104199003051239"
    )
    wrong = add_patient(
        member=member, name="李四", relation="spouse", id_number="110105198506120018"
    )
    _log_in(page, member)

    page.goto(f"{page.base_url}/profile/patients/")  # the patients page offers the check
    page.locator(f"[data-patient='{parent.pk}']").get_by_role("link", name="立即认证").click()
    expect(page.locator("#verify-status")).to_contain_text("未认证")
    assert no_sideways_scroll(page)
    screenshot(page, "realname-1-before")
    page.get_by_role("button", name="立即认证").click()
    expect(page.locator("#verify-status")).to_contain_text("已认证")
    expect(page.get_by_text("认证成功")).to_be_visible()
    screenshot(page, "realname-2-verified")

    page.goto(f"{page.base_url}/patients/{wrong.pk}/real-name/")
    page.get_by_role("button", name="立即认证").click()
    expect(page.get_by_text("姓名与证件号不一致，请对照身份证核对后重试。")).to_be_visible()
    expect(page.locator("#verify-status")).to_contain_text("未认证")
    assert no_sideways_scroll(page)
    screenshot(page, "realname-3-mismatch")


def test_the_front_desk_verifies_a_passport_in_person(page, levels) -> None:
    member = MemberFactory(name="陈静")
    spouse = add_patient(
        member=member,
        name="John Smith",
        relation="spouse",
        id_type="passport",
        id_number="E12345678",
    )
    person("desk", FRONT_DESK)
    log_in(page, "desk")
    page.goto(f"{page.base_url}/staff/members/{member.pk}/")
    row = page.locator(f"[data-patient='{spouse.pk}']")
    expect(row).to_contain_text("未认证")
    assert no_sideways_scroll(page)
    row.get_by_role("link", name="现场核验").click()
    screenshot(page, "realname-4-desk-confirm")
    page.get_by_label("我已查验证件原件", exact=False).check()
    page.get_by_role("button", name="确认：已现场核验").click()
    expect(page.locator(f"[data-patient='{spouse.pk}']")).to_contain_text("已现场核验")
    assert no_sideways_scroll(page)
    screenshot(page, "realname-5-desk-verified")
