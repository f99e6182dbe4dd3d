"""改约 in a real browser on a 375 px wide screen: a member moves a paid visit to another of the
doctor's sessions without paying again, or to a dearer one paying only the difference at the
sandbox cashier (screenshots: test-results/screenshots/reschedule-*.png)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment
from billing import services
from billing.choices import OrderStatus
from billing.gateways import sandbox
from billing.models import Order, Refund
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_portal_journeys import _log_in, jobs_run_at_once  # noqa: F401
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_member_moves_a_paid_visit_without_paying_again(page, levels) -> None:
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology")
    doctor = DoctorFactory(name="王建国", department=cardiology, title="chief")
    today = timezone.localdate()
    first = ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=3), fee=Decimal("80.00"))
    same_fee = ScheduleFactory(
        doctor=doctor, date=today + dt.timedelta(days=5), fee=Decimal("80.00"), room="3诊室"
    )
    ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=6), fee=Decimal("120.00"))
    ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=7), fee=Decimal("50.00"))
    member = MemberFactory(name="陈晓明", level=levels["普通"])
    booked = services.place_booking(member=member, schedule=first, channel=Channel.WEB)
    trade = sandbox.pay(order=booked.order)
    services.confirm_payment(
        out_trade_no=booked.order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=booked.order.amount,
    )
    order = Order.objects.get()

    _log_in(page, member)
    page.goto(page.base_url + f"/appointments/{order.appointment_id}/")
    screenshot(page, "reschedule-01-paid-appointment")
    page.get_by_role("link", name="改约").click()
    page.wait_for_url("**/reschedule/")
    text = page.locator("main").inner_text()
    assert "费用相同，无需支付" in text and "退 ¥30.00" in text
    assert "补差价 ¥40.00" in text  # the dearer session: only the difference to pay
    no_sideways_scroll(page)
    screenshot(page, "reschedule-02-choose")

    page.locator(f'.move-option[data-schedule="{same_fee.pk}"]').click()
    page.get_by_role("button", name="确认改约").click()
    page.wait_for_url("**/appointments/*/")
    new = Appointment.objects.get(schedule=same_fee)
    assert page.url.endswith(f"/appointments/{new.pk}/")
    main = page.locator("main").inner_text()
    assert "无需再次支付" in main and "已确认" in main
    assert "改约自" in main
    assert page.locator(f'a[href$="/appointments/{new.pk}/pay/"]').count() == 0
    no_sideways_scroll(page)
    screenshot(page, "reschedule-03-moved")

    # The money stayed where it was: the same order, paid once, nothing refunded.
    assert Order.objects.get().appointment_id == new.pk
    assert not Refund.objects.exists()

    # The old appointment says where the booking went; the member got a message.
    page.goto(page.base_url + f"/appointments/{order.appointment_id}/")
    assert "已改约至" in page.locator("main").inner_text()
    screenshot(page, "reschedule-04-old-appointment")
    page.get_by_role("link", name="消息").click()
    assert "预约已改约" in page.locator(".message-list").inner_text()
    screenshot(page, "reschedule-05-messages")


def test_the_front_desk_moves_a_members_booking_to_a_colleague_after_a_suspension(
    page, levels
) -> None:
    from medbook.roles import FRONT_DESK
    from tests.browser.test_staff_journeys import log_in, person

    person("desk", FRONT_DESK)
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology")
    doctor = DoctorFactory(name="王建国", department=cardiology, title="chief")
    colleague = DoctorFactory(name="李敏", department=cardiology, title="chief")
    today = timezone.localdate()
    first = ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=3), fee=Decimal("80.00"))
    target = ScheduleFactory(
        doctor=colleague, date=today + dt.timedelta(days=3), fee=Decimal("80.00"), room="5诊室"
    )
    member = MemberFactory(name="陈晓明", level=levels["普通"])
    booked = services.place_booking(member=member, schedule=first, channel=Channel.WEB)

    log_in(page, "desk")
    page.goto(page.base_url + f"/staff/appointments/{booked.pk}/")
    page.get_by_role("link", name="改约").click()
    page.wait_for_url("**/reschedule/")
    page.locator(f'.move-option[data-schedule="{target.pk}"]').click()
    page.get_by_label("原因（记入操作日志）").fill("王医生停诊，电话通知会员")
    no_sideways_scroll(page)
    screenshot(page, "reschedule-06-staff-choose")
    page.get_by_role("button", name="确认改约").click()
    page.wait_for_url("**/staff/appointments/*/")
    moved = Appointment.objects.get(schedule=target)
    assert page.url.endswith(f"/staff/appointments/{moved.pk}/")
    assert "改约自" in page.locator("main").inner_text()
    screenshot(page, "reschedule-07-staff-moved")
    assert moved.staff_note == "王医生停诊，电话通知会员"


@pytest.mark.usefixtures("jobs_run_at_once")  # the cashier's notification reaches MedBook
def test_a_member_moves_a_paid_visit_to_a_dearer_session_paying_only_the_difference(
    page, levels
) -> None:
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology")
    doctor = DoctorFactory(name="王建国", department=cardiology, title="chief")
    today = timezone.localdate()
    first = ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=3), fee=Decimal("80.00"))
    dearer = ScheduleFactory(
        doctor=doctor, date=today + dt.timedelta(days=6), fee=Decimal("120.00"), room="专家诊室"
    )
    member = MemberFactory(name="陈晓明", level=levels["普通"])
    booked = services.place_booking(member=member, schedule=first, channel=Channel.WEB)
    trade = sandbox.pay(order=booked.order)
    services.confirm_payment(
        out_trade_no=booked.order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=booked.order.amount,
    )

    _log_in(page, member)
    page.goto(page.base_url + f"/appointments/{booked.pk}/reschedule/")
    assert "补差价 ¥40.00" in page.locator("main").inner_text()
    page.locator(f'.move-option[data-schedule="{dearer.pk}"]').click()
    no_sideways_scroll(page)
    screenshot(page, "reschedule-08-dearer-choose")
    page.get_by_role("button", name="确认改约").click()
    page.wait_for_url("**/appointments/*/")

    # The new slot is held for the difference; the old booking stays until it is paid.
    held = Appointment.objects.get(schedule=dearer)
    assert page.url.endswith(f"/appointments/{held.pk}/")
    main = page.locator("main").inner_text()
    assert "¥40.00" in main and "差价付清后，本预约将替换" in main
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.CONFIRMED
    no_sideways_scroll(page)
    screenshot(page, "reschedule-09-dearer-held")

    # The same pages in English on a desktop screen.
    page.select_option("#language", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.set_viewport_size(DESKTOP)
    english = page.locator("main").inner_text()
    assert "Difference to pay for the move" in english and "Once the difference is paid" in english
    screenshot(page, "reschedule-12-dearer-held-english-desktop")
    page.goto(page.base_url + f"/appointments/{booked.pk}/reschedule/")
    assert "A move of this booking to a dearer session is waiting" in (
        page.locator("main").inner_text()
    )
    screenshot(page, "reschedule-13-move-pending-english-desktop")
    page.select_option("#language", "zh-hans")
    # The URL is already this page's: wait for the language to have changed, not for the URL.
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    page.set_viewport_size(PHONE)
    page.goto(page.base_url + f"/appointments/{held.pk}/")

    page.locator(f'a[href$="/appointments/{held.pk}/pay/"]').first.click()
    page.wait_for_url("**/payments/sandbox/**")
    assert "40.00" in page.locator("main").inner_text()
    screenshot(page, "reschedule-10-dearer-cashier")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_selector(".notice.ok")
    page.get_by_role("link", name="返回 MedBook").click()
    page.wait_for_url("**/appointments/*/")
    assert "已确认" in page.locator("#appointment-status").inner_text()
    no_sideways_scroll(page)
    screenshot(page, "reschedule-11-dearer-moved")

    # One move, the difference paid once on the same gateway, nothing refunded.
    top_up = Order.objects.get(appointment=held)
    assert (top_up.amount, top_up.status, top_up.top_up_of_id, top_up.gateway) == (
        Decimal("40.00"),
        OrderStatus.PAID,
        booked.order.pk,
        booked.order.gateway,
    )
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.CANCELLED
    assert not Refund.objects.exists()
    page.goto(page.base_url + f"/appointments/{booked.pk}/")
    assert "已改约至" in page.locator("main").inner_text()
