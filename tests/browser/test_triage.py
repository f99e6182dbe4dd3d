"""Triage → book in a real browser on a phone-sized screen (375 px), in Chinese and English."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.triage.test_views import clinic, visit  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_symptoms_to_cardiology_to_a_doctors_sessions(page, clinic) -> None:  # noqa: F811
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="不知道挂哪个科？试试智能导诊").click()
    page.wait_for_url("**/triage/")
    assert page.get_by_role("heading", name="不知道挂哪个科？").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "triage-01-form-phone")

    page.get_by_label("您的症状").fill("胸闷 心慌 两天")
    with page.expect_navigation():
        page.get_by_role("button", name="推荐科室").click()

    first = page.locator(".triage-department").first
    assert "心血管内科" in first.locator("h3").inner_text()
    assert "胸闷、心慌 → 心血管内科" in first.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "triage-02-result-phone")

    first.get_by_role("link", name="刘慧敏").click()
    page.wait_for_url(f"**/doctors/{clinic['arrhythmia'].pk}/")
    assert page.locator(".schedule").count() == 1
    screenshot(page, "triage-03-doctor-phone")


def test_a_red_flag_and_an_example_button(page, clinic) -> None:  # noqa: F811
    page.goto(page.base_url + "/triage/")
    page.get_by_label("您的症状").fill("突然胸痛，出了一身大汗")
    with page.expect_navigation():
        page.get_by_role("button", name="推荐科室").click()
    assert page.get_by_role("alert").filter(has_text="请立即就医或拨打120").is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "triage-04-red-flag-phone")

    with page.expect_navigation():
        page.get_by_role("button", name="牙疼得睡不着").click()
    assert page.get_by_role("alert").count() == 0


def test_a_member_sees_doctors_for_you_on_the_home_page_in_english(
    page,
    clinic,  # noqa: F811
    member,
) -> None:
    visit(member, clinic["senior"], days_ago=14)
    member.user.set_password("medbook-test-1")
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill("medbook-test-1")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")
    with page.expect_navigation():
        page.select_option("#language", "en")
    page.goto(page.base_url + "/")
    section = page.locator("#for-you")
    section.wait_for()
    assert "王建国" in section.inner_text()
    assert "Follow-up" in section.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "triage-05-for-you-home-english")
