"""候补 in a real browser, with screenshots (waitlist-*.png): on a phone (375 px) a member joins
the waitlist of a sold-out session; another member, at a desktop (1280 px), cancels their
booking; the first is offered the slot (message and text), books it and pays on the sandbox
cashier. The waitlist page in English too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus, WaitlistStatus
from appointments.models import WaitlistEntry
from billing.gateways import sandbox
from billing.services import confirm_payment, place_booking
from medbook.celery import app as celery_app
from members.models import Member, Message, MessageKind
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


@pytest.fixture
def jobs_run_at_once(settings, live_server):
    """Celery jobs (texts, the cashier's notification, the refund) run as they are handed over
    and reach this live server."""
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def log_in(page, member: Member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_join_the_waitlist_get_the_freed_slot_book_and_pay(
    page, browser, live_server, levels, sms_log, jobs_run_at_once
) -> None:
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology")
    doctor = DoctorFactory(name="王建国", department=cardiology, title="chief")
    full = ScheduleFactory(
        doctor=doctor,
        date=timezone.localdate() + dt.timedelta(days=4),
        capacity=1,
        fee=Decimal("80.00"),
        room="3诊室",
    )
    holder = MemberFactory(name="李四", level=levels["普通"])
    held = place_booking(member=holder, schedule=full, channel="web")
    trade = sandbox.pay(order=held.order)
    confirm_payment(
        out_trade_no=held.order.out_trade_no, gateway_trade_no=trade.trade_no, amount=trade.amount
    )
    waiting = MemberFactory(name="赵敏", level=levels["银卡"])

    # The first member, on a phone: the session is full; they join its waitlist.
    log_in(page, waiting)
    page.goto(page.base_url + f"/doctors/{doctor.pk}/")
    session = page.locator(f"#schedule-{full.pk}")
    assert "约满" in session.inner_text()
    screenshot(page, "waitlist-01-sold-out")
    session.get_by_role("button", name="加入候补").click()
    page.wait_for_url("**/waitlist/")
    assert "已加入候补" in page.locator(".flash").inner_text()
    assert "排第 1 位" in page.locator(".waitlist").inner_text()
    assert fits(page, PHONE["width"])
    screenshot(page, "waitlist-02-joined")
    page.goto(page.base_url + f"/doctors/{doctor.pk}/")
    page.locator(f"#schedule-{full.pk}").get_by_text("候补中").wait_for()

    # The other member, at a desktop, cancels their paid booking.
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    other = desk.new_page()
    other.base_url = live_server.url
    log_in(other, holder)
    other.goto(other.base_url + f"/appointments/{held.pk}/cancel/")
    other.get_by_role("button", name="确认取消").click()
    other.wait_for_url(f"**/appointments/{held.pk}/")
    screenshot(other, "waitlist-03-other-member-cancelled")
    desk.close()

    # The slot is held for the first member, who is told by message and by text.
    entry = WaitlistEntry.objects.get(member=waiting)
    assert entry.status == WaitlistStatus.OFFERED
    assert Message.objects.filter(member=waiting, kind=MessageKind.WAITLIST).exists()
    assert any("号源为您保留至" in text for text in sms_log.messages())
    page.goto(page.base_url + "/waitlist/")
    offer = page.locator(f"#waitlist-{entry.pk}")
    deadline = timezone.localtime(entry.offer_expires_at).strftime("%H:%M")
    assert f"号源为您保留至 {deadline}" in offer.inner_text()
    assert fits(page, PHONE["width"])
    screenshot(page, "waitlist-04-offered")

    # They book it and pay on the sandbox cashier.
    offer.get_by_role("button", name="预约此号源").click()
    page.wait_for_url("**/payments/sandbox/**")
    assert page.locator(".amount").inner_text() == "¥76.00"  # 银卡: 5% off
    screenshot(page, "waitlist-05-cashier")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_selector(".notice.ok")
    page.get_by_role("link", name="返回 MedBook").click()
    page.wait_for_url("**/appointments/*/")
    assert "已确认" in page.locator("#appointment-status").inner_text()
    screenshot(page, "waitlist-06-booked")
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert entry.appointment.status == AppointmentStatus.CONFIRMED
    assert entry.appointment.schedule_id == full.pk

    # The waitlist page, with the booked place among the earlier ones, in English, on a desktop.
    page.goto(page.base_url + "/waitlist/")
    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="Earlier waitlist places").wait_for()
    assert "Booked" in page.locator(f"#waitlist-{entry.pk}").inner_text()
    screenshot(page, "waitlist-07-history-en")
    assert fits(page, PHONE["width"])
    page.set_viewport_size(DESKTOP)
    screenshot(page, "waitlist-08-history-en-desktop")
