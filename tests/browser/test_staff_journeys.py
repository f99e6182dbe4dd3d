"""The staff console in Chromium: an admin builds a week from a template and releases it; the
front desk checks a member in; the doctor calls and completes them while the waiting-room
screen shows the number. Screenshots: test-results/screenshots/staff-*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment, Schedule
from appointments.services import book_appointment
from medbook.roles import CLINIC_ADMIN, DOCTOR, FRONT_DESK
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, screenshot
from tests.conftest import staff_user, started_ago, totp_code
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!console-2026"


def log_in(page, username: str) -> None:
    """Password, then the authenticator code (two-factor is required for staff)."""
    page.goto(page.base_url + "/staff/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.locator("#id_code").fill(totp_code(_secrets[username]))
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/staff/")


_secrets: dict[str, str] = {}  # username -> authenticator key, filled by person()


def person(username: str, role: str):
    user = staff_user(username, role)
    user.set_password(PASSWORD)
    user.save()
    _secrets[username] = user.totp_secret
    return user


@pytest.fixture
def clinic(levels):
    department = DepartmentFactory(name="心血管内科", code="cardiology", location="门诊楼3层")
    doctor = DoctorFactory(
        name="王建国", department=department, title="chief", user=person("drwang", DOCTOR)
    )
    return department, doctor


def test_an_admin_builds_a_week_from_a_template_and_releases_it(page, clinic) -> None:
    page.set_viewport_size(DESKTOP)
    _department, doctor = clinic
    person("chen", CLINIC_ADMIN)
    log_in(page, "chen")
    page.get_by_role("link", name="排班模板").first.click()

    form = page.locator("form", has=page.locator("input[value=template]"))
    form.get_by_label("医生").select_option(str(doctor.pk))
    form.get_by_label("星期").select_option("0")  # Monday
    form.get_by_label("时段", exact=True).select_option("morning")
    form.get_by_label("开始").fill("08:00")
    form.get_by_label("结束").fill("11:30")
    form.get_by_label("号源数").fill("12")
    form.get_by_label("诊室", exact=True).fill("3诊室")
    form.get_by_role("button", name="添加模板").click()
    page.get_by_text("模板已添加").wait_for()

    page.get_by_role("button", name="生成排班").click()  # next Monday, one week
    page.get_by_text("已生成 1 个待放号时段").wait_for()
    screenshot(page, "staff-01-week-built")
    session = Schedule.objects.get(doctor=doctor)
    assert session.status == "draft"

    page.get_by_role("button", name="立即执行放号任务").click()
    page.get_by_text("已放号 1 个时段").wait_for()
    page.goto(page.base_url + f"/staff/schedules/?from={session.date:%Y-%m-%d}")
    assert "已放号" in page.locator(".status-published").inner_text()
    screenshot(page, "staff-02-released")
    session.refresh_from_db()
    assert (session.status, session.capacity, session.room) == ("published", 12, "3诊室")


def test_front_desk_checks_in_the_doctor_calls_and_completes(page, browser, live_server, clinic):
    department, doctor = clinic
    start = started_ago(dt.timedelta(minutes=20))
    session = ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(second=0, microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        room="3诊室",
        release_at=timezone.now() - dt.timedelta(days=3),
    )
    patient = MemberFactory(name="赵敏", phone="+8613912340000")
    appointment = book_appointment(
        member=patient,
        schedule=session,
        channel="web",
        now=session.starts_at - dt.timedelta(hours=1),
    )
    person("liu", FRONT_DESK)

    # The waiting-room screen, open all along on its own display.
    screen = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    screen.goto(live_server.url + f"/waiting/{department.code}/")
    number = screen.locator("#banner .banner-number")
    assert number.count() == 0  # nobody called yet

    log_in(page, "liu")
    page.get_by_role("link", name="签到").first.click()
    page.get_by_label("手机号").fill("139 1234 0000")
    page.get_by_role("button", name="查找").click()
    assert "赵敏" in page.locator(".appointment-list").inner_text()
    screenshot(page, "staff-03-check-in-found")
    page.get_by_role("button", name="签到").click()
    page.get_by_text("赵敏 已签到").wait_for()
    screenshot(page, "staff-04-checked-in")
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"

    page.get_by_role("button", name="退出登录").click()
    log_in(page, "drwang")
    page.get_by_role("link", name="我的队列").first.click()
    page.get_by_role("button", name="叫下一位（1 人候诊）").click()
    assert page.locator("#calling-number").inner_text() == str(appointment.queue_number)
    screenshot(page, "staff-05-doctor-calling")

    number.get_by_text(str(appointment.queue_number)).wait_for(timeout=5000)  # polls every 2 s
    screenshot(screen, "staff-06-waiting-room")

    page.get_by_role("button", name="完成就诊").click()
    page.get_by_text(f"{appointment.queue_number} 号就诊完成").wait_for()
    screenshot(page, "staff-07-completed")
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
    screen.context.close()
