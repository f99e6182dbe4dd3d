"""放号提醒 and the date strip in a real browser at 375 px, with screenshots (remind-*.png): a
member sets a reminder on a session not yet open to them, sees it listed, the job runs at their
level's opening time and the message (and text) arrives; a member books from the date strip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import ReminderStatus
from appointments.models import Appointment, ReleaseReminder
from appointments.services import send_release_reminders
from medbook.celery import app as celery_app
from members.models import Member
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import PHONE, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


@pytest.fixture
def jobs_run_at_once(settings, live_server):
    """Celery jobs (the text's delivery) run as soon as they are handed over."""
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def clinic(levels):
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology", location="门诊楼3层A区")
    wang = DoctorFactory(name="王建国", department=cardiology, title="chief")
    li = DoctorFactory(name="李华", department=cardiology, title="attending")
    today = timezone.localdate()
    return {
        "department": cardiology,
        "wang": wang,
        "open": ScheduleFactory(doctor=li, date=today + dt.timedelta(days=3), fee=Decimal("0")),
        "also_open": ScheduleFactory(doctor=wang, date=today + dt.timedelta(days=3)),
        "later": ScheduleFactory(
            doctor=wang,
            date=today + dt.timedelta(days=9),
            room="3诊室",
            release_at=(timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0),
        ),
    }


def log_in(page, member: Member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_set_a_reminder_see_it_listed_and_receive_it(
    page, clinic, levels, sms_log, jobs_run_at_once
) -> None:
    member = MemberFactory(name="赵敏", level=levels["银卡"])  # may book 2 hours early
    log_in(page, member)
    page.goto(page.base_url + f"/doctors/{clinic['wang'].pk}/")
    later = page.locator(f"#schedule-{clinic['later'].pk}")
    later.get_by_role("button", name="放号提醒").click()
    page.wait_for_selector(".notice.ok")
    assert "已设置放号提醒" in page.locator(".flash").inner_text()
    later.get_by_text("已设提醒").wait_for()
    assert fits_the_phone(page)
    screenshot(page, "remind-01-doctor-reminder-set")

    # Listed under My appointments, with when it goes out at this member's level.
    page.get_by_role("link", name="我的预约").first.click()
    page.get_by_role("link", name="放号提醒").click()
    page.wait_for_url("**/reminders/")
    reminder = ReleaseReminder.objects.get(member=member)
    row = page.locator(f"#reminder-{reminder.pk}")
    due = timezone.localtime(clinic["later"].release_at - dt.timedelta(hours=2))
    assert "王建国" in row.inner_text()
    assert f"提醒时间 {due.month}月{due.day}日 {due:%H:%M}" in row.inner_text()
    assert fits_the_phone(page)
    screenshot(page, "remind-02-reminders")

    # The job runs at the member's own opening time: the message and the text arrive.
    assert send_release_reminders(now=clinic["later"].release_at - dt.timedelta(hours=2)) == 1
    texts = [text for text in sms_log.messages() if "王建国" in text]
    assert len(texts) == 1 and "可以预约了" in texts[0]
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="消息").click()
    message = page.locator(".message-list .message").first
    assert "放号提醒：王建国" in message.inner_text()
    assert message.get_by_role("link", name="预约该号源").count() == 1
    screenshot(page, "remind-03-message")
    page.goto(page.base_url + "/reminders/")
    assert "已提醒" in page.locator(f"#reminder-{reminder.pk}").inner_text()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    screenshot(page, "remind-04-reminder-sent")


def test_cancel_a_reminder(page, clinic, levels) -> None:
    member = MemberFactory(name="钱七", level=levels["普通"])
    log_in(page, member)
    page.goto(page.base_url + f"/doctors/{clinic['wang'].pk}/")
    page.locator(f"#schedule-{clinic['later'].pk}").get_by_role("button", name="放号提醒").click()
    page.wait_for_selector(".notice.ok")
    page.goto(page.base_url + "/reminders/")
    page.get_by_role("button", name="取消提醒").click()
    page.wait_for_selector(".notice.ok")
    assert "已取消" in page.locator(".reminder-history").inner_text()
    assert "暂无待发送的提醒" in page.locator(".reminder-list").inner_text()
    screenshot(page, "remind-05-cancelled")


def test_book_from_the_date_strip(page, clinic, levels) -> None:
    member = MemberFactory(name="孙丽", level=levels["普通"])
    log_in(page, member)
    page.goto(page.base_url + "/?department=cardiology#doctors")
    assert fits_the_phone(page)
    screenshot(page, "remind-06-department")
    page.get_by_role("link", name="按日期挂号").click()
    page.wait_for_url("**/departments/cardiology/dates/**")
    # The 14 dates scroll sideways inside the strip; the page itself does not.
    strip = page.locator(".date-strip")
    assert page.locator(".strip-day").count() == 14
    assert strip.evaluate("el => el.scrollWidth > el.clientWidth")
    assert fits_the_phone(page)
    screenshot(page, "remind-07-date-strip")

    day = clinic["open"].date
    page.locator(f"#day-{day:%Y-%m-%d}").click()
    page.wait_for_url(f"**?date={day:%Y-%m-%d}")
    assert page.locator(f"#day-{day:%Y-%m-%d}").get_attribute("aria-current") == "date"
    sessions = page.locator(".day-sessions")
    assert "王建国" in sessions.inner_text() and "李华" in sessions.inner_text()
    assert fits_the_phone(page)
    screenshot(page, "remind-08-date-strip-day")

    page.locator(f"#schedule-{clinic['open'].pk}").get_by_role("link", name="预约").click()
    page.wait_for_url(f"**/book/{clinic['open'].pk}/**")
    page.get_by_role("button", name="预约", exact=True).click()
    page.wait_for_url("**/appointments/*/")
    assert "已确认" in page.locator("#appointment-status").inner_text()
    assert Appointment.objects.get(member=member).schedule == clinic["open"]
    screenshot(page, "remind-09-booked-from-strip")
