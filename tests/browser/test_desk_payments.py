"""The front desk takes a desk booking's fee in Chromium, at 375 px: booked for a member, the
amount and the deadline at once and paid there; another hold paid from 待收费. Screenshots:
test-results/screenshots/desk-*.png."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from billing import services
from medbook.roles import FRONT_DESK
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import screenshot
from tests.browser.test_staff_journeys import log_in, person
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_desk_books_sees_the_deadline_pays_and_clears_its_unpaid_list(page, levels) -> None:
    department = DepartmentFactory(name="心血管内科", code="cardiology")
    doctor = DoctorFactory(name="王建国", department=department)
    schedule = ScheduleFactory(doctor=doctor, fee=Decimal("60.00"))
    member = MemberFactory(name="赵敏")
    desk = person("liu", FRONT_DESK)
    waiting = services.book_for_member(
        member=MemberFactory(name="周芷若"), schedule=schedule, by=desk
    )
    log_in(page, "liu")

    page.goto(page.base_url + f"/staff/members/{member.pk}/?department=cardiology")
    page.locator(".book-row").get_by_role("button", name="预约").click()
    page.locator(".hold-deadline").wait_for()
    booked = Appointment.objects.get(member=member)
    deadline = timezone.localtime(booked.order.expires_at).strftime("%H:%M")
    assert deadline in page.locator(".hold-deadline").inner_text()
    assert f"请在 {deadline} 前支付 ¥60.00" in page.content()
    assert no_sideways_scrolling(page)
    screenshot(page, "desk-01-booked-with-deadline")
    page.get_by_role("button", name="前台已收 ¥60.00").click()
    page.get_by_text("已确认").first.wait_for()
    booked.refresh_from_db()
    assert booked.status == "confirmed"

    page.get_by_role("link", name="待收费").first.click()
    page.wait_for_url("**/staff/unpaid/")
    row = page.locator("#unpaid-holds .unpaid-hold")
    # count() does not wait: the list is awaited as a whole before it is counted
    expect(row).to_have_count(1)
    assert "周芷若" in row.inner_text()
    assert no_sideways_scrolling(page)
    screenshot(page, "desk-02-unpaid-list")
    row.get_by_role("button").click()
    page.get_by_text("目前没有待收费的前台预约").wait_for()
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
