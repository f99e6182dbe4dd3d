"""分时段 in a real browser on a 375 px wide screen: a member opens a doctor's split session,
sees its time slots (the full one disabled, the earliest free one chosen), picks a later slot
and gets a ticket whose time lies in it (screenshots: test-results/screenshots/slots-*.png)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.models import Appointment
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.factories import book
from tests.browser.conftest import screenshot
from tests.browser.test_portal_journeys import _log_in
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_picks_a_time_slot_and_the_ticket_shows_it(page, levels) -> None:
    department = DepartmentFactory(name="皮肤科", code="derm")
    doctor = DoctorFactory(name="林晓燕", department=department)
    session = ScheduleFactory(
        doctor=doctor,
        date=timezone.localdate() + dt.timedelta(days=3),
        start_time=dt.time(8, 0),
        end_time=dt.time(10, 0),
        slot_minutes=30,
        capacity=8,
        fee=Decimal("0.00"),
    )
    book(MemberFactory(), session)
    book(MemberFactory(), session)  # 08:00–08:30 is full
    member = MemberFactory(name="陈晓明", level=levels["普通"])

    _log_in(page, member)
    page.goto(page.base_url + f"/doctors/{doctor.pk}/")
    assert "分时段" in page.locator(f"#schedule-{session.pk}").inner_text()
    page.locator(f"#schedule-{session.pk}").get_by_role("link", name="预约").click()
    page.wait_for_url("**/book/**")
    slots = page.get_by_role("radio")
    assert slots.count() == 4
    assert slots.nth(0).is_disabled() and slots.nth(1).is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_label("09:00–09:30").check()
    screenshot(page, "slots-01-choose")
    page.get_by_role("button", name="预约", exact=True).click()
    page.wait_for_url("**/appointments/*/")

    appointment = Appointment.objects.get(member=member)
    assert appointment.queue_number == 5
    text = page.locator("main").inner_text()
    assert "09:00–09:30" in text and "09:00" in page.locator(".queue-time").inner_text()
    screenshot(page, "slots-02-ticket")
