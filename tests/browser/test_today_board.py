"""Today's board in a browser, as the front desk: on a phone (375 px) cards without sideways
scrolling, status pills on one line and the check-in button in view; on a desktop (1280 px) a
table; keyboard check-in (type the number, Enter); the polled body keeps a closed session
closed and the filters. Screenshots in test-results/screenshots/board-*.png."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.choices import AppointmentStatus, Channel, Session
from appointments.models import Appointment
from medbook.roles import FRONT_DESK
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_staff_journeys import log_in, person
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _day() -> dict:
    today = timezone.localdate()
    medicine = DoctorFactory(
        name="王建国", department=DepartmentFactory(name="心血管内科", code="cardiology")
    )
    surgery = DoctorFactory(name="李淑芬", department=DepartmentFactory(name="普外科", code="sur"))
    morning = ScheduleFactory(doctor=medicine, date=today, start_time=dt.time(8, 0),
                              end_time=dt.time(11, 30), session=Session.MORNING, room="3诊室",
                              capacity=20, fee=Decimal("0"))  # fmt: skip
    afternoon = ScheduleFactory(doctor=surgery, date=today, start_time=dt.time(14, 0),
                                end_time=dt.time(17, 0), session=Session.AFTERNOON,
                                capacity=20, fee=Decimal("0"))  # fmt: skip
    made = {}
    statuses = [AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN,
                AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW]  # fmt: skip
    for schedule in (morning, afternoon):
        for number in range(1, 9):
            made[(schedule.pk, number)] = Appointment.objects.create(
                member=MemberFactory(name=f"欧阳明{number}"),
                schedule=schedule,
                queue_number=number,
                estimated_time=schedule.start_time,
                status=statuses[number % 4] if number != 5 else AppointmentStatus.CONFIRMED,
                channel=Channel.WALK_IN if number == 8 else Channel.WEB,
                fee=Decimal("0"),
            )
    return {"morning": morning, "afternoon": afternoon, "made": made}


def _no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_desk_checks_in_by_keyboard_without_scrolling_sideways(page, levels):
    day = _day()
    person("liu", FRONT_DESK)
    log_in(page, "liu")
    page.goto(page.base_url + "/staff/today/")

    assert _no_sideways_scrolling(page)
    assert page.locator("[data-total=booked]").inner_text() == "16"
    # Each status pill is one line high; each check-in button is inside the screen's width.
    pills = page.locator(".board-status .pill")
    for i in range(pills.count()):
        box = pills.nth(i).bounding_box()
        assert box["height"] < 40, pills.nth(i).inner_text()
    button = page.locator(".board-actions .button").first
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "board-01-phone")

    # Number 5 is in both sessions: typed alone, the desk is asked for the session.
    field = page.get_by_label("按就诊序号签到")
    field.fill("5")
    field.press("Enter")
    page.locator("#number-errors").wait_for()
    assert "请选择时段" in page.locator("#number-errors").inner_text()
    page.locator("#id_schedule").select_option(str(day["morning"].pk))
    field = page.get_by_label("按就诊序号签到")
    field.fill("5")
    field.press("Enter")
    page.wait_for_url("**/staff/today/")
    assert "已签到，5 号" in page.content()
    morning_5 = day["made"][(day["morning"].pk, 5)]
    morning_5.refresh_from_db()
    assert morning_5.status == AppointmentStatus.CHECKED_IN
    assert _no_sideways_scrolling(page)
    screenshot(page, "board-02-phone-checked-in")


def test_on_a_desktop_a_table_filters_a_search_and_the_polled_body(page, levels):
    day = _day()
    page.set_viewport_size(DESKTOP)
    person("liu", FRONT_DESK)
    log_in(page, "liu")
    page.goto(page.base_url + "/staff/today/")

    assert page.locator(".board-table thead").first.is_visible()  # a table, not cards
    assert page.locator(".board-row").count() == 16
    screenshot(page, "board-03-desktop")

    page.locator("#id_department").select_option("sur")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**department=sur**")
    assert page.locator(".board-row").count() == 8

    phone = Appointment.objects.get(schedule=day["afternoon"], queue_number=3).member
    search = page.get_by_label("序号、手机号、身份证号或姓名")
    search.fill(phone.phone.replace("+86", ""))
    search.press("Enter")
    page.wait_for_url("**search=**")
    assert "department=sur" in page.url and phone.phone[3:] not in page.url
    assert page.locator(".board-row").count() == 1

    # Close the session; a newly checked-in patient shows up on the next poll (10 s), the
    # session stays closed and the filters and search stay as they were.
    page.goto(page.base_url + "/staff/today/?department=sur")
    page.locator(f"#session-{day['afternoon'].pk} > summary").click()
    Appointment.objects.filter(schedule=day["afternoon"], queue_number=4).update(
        status=AppointmentStatus.CHECKED_IN, checked_in_at=timezone.now()
    )
    waiting = page.locator("[data-total=waiting]")
    before = waiting.inner_text()
    expect(waiting).not_to_have_text(before, timeout=15000)
    assert int(waiting.inner_text()) == int(before) + 1
    assert page.locator(f"#session-{day['afternoon'].pk}").evaluate("d => d.open") is False
    assert "department=sur" in page.url
    screenshot(page, "board-04-desktop-polled")


def test_the_board_has_no_accessibility_violations_at_either_size(page, levels):
    from axe_playwright_python.sync_playwright import Axe

    _day()
    person("liu", FRONT_DESK)
    log_in(page, "liu")
    for size in ({"width": 375, "height": 812}, DESKTOP):
        page.set_viewport_size(size)
        page.goto(page.base_url + "/staff/today/")
        violations = [
            f"{v['id']}: {v['help']} ({v['nodes'][0]['target']})"
            for v in Axe().run(page).response["violations"]
            if v["impact"] in {"serious", "critical", "moderate", "minor"}
        ]
        assert violations == [], (size, violations)
