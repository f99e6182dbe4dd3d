"""The public pages in a real browser, on a phone-sized screen, in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.choices import Channel, ScheduleStatus
from appointments.services import book_appointment
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic(levels):
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology", location="门诊楼3层")
    doctor = DoctorFactory(name="王建国", department=cardiology, specialties="高血压、冠心病")
    today = timezone.localdate()
    ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=2), capacity=10)
    full = ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=3), capacity=1)
    book_appointment(member=MemberFactory(), schedule=full, channel=Channel.WEB)
    ScheduleFactory(
        doctor=doctor,
        date=today + dt.timedelta(days=9),
        release_at=timezone.now() + dt.timedelta(days=2),
    )
    ScheduleFactory(
        doctor=doctor, date=today + dt.timedelta(days=4), status=ScheduleStatus.SUSPENDED
    )
    return doctor


def test_a_visitor_finds_a_doctor_and_reads_each_session_state(page, clinic) -> None:
    page.goto(page.base_url + "/")
    assert page.get_by_role("heading", name="预约挂号").is_visible()
    screenshot(page, "01-home-phone")

    page.get_by_role("link", name="王建国").click()
    page.wait_for_url("**/doctors/*/")
    cards = page.locator(".schedule")
    assert cards.count() == 4
    text = page.locator(".schedule-list").inner_text()
    assert "剩余 10 个号" in text
    assert "约满" in text
    assert "放号" in text
    assert "停诊" in text
    screenshot(page, "02-doctor-phone")


def test_the_language_switch_shows_english(page, clinic) -> None:
    page.goto(page.base_url + "/")
    with page.expect_navigation():
        page.select_option("#language", "en")
    assert page.get_by_role("heading", name="Book a doctor").is_visible()
    screenshot(page, "03-home-english")


def test_the_home_page_on_a_desktop_screen(browser, live_server, clinic) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator(".doctor-card").count() == 1
    screenshot(page, "04-home-desktop")
    context.close()
