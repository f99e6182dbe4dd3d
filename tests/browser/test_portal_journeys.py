"""The member's journeys in a real browser on a 375 px wide screen, with a screenshot of every
step under test-results/screenshots (portal-*.png).

Payments and refunds go the whole way: the sandbox cashier's notification and the refund are
Celery jobs, run eagerly here, that call the live server over HTTP like the worker does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import Channel
from appointments.services import book_appointment
from medbook.celery import app as celery_app
from members.models import Member
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import DESKTOP, screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


@pytest.fixture
def jobs_run_at_once(settings, live_server):
    """Celery jobs run in the request that enqueues them and reach this live server."""
    settings.MEDBOOK_PUBLIC_URL = live_server.url
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def clinic(levels):
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology", location="门诊楼3层A区")
    doctor = DoctorFactory(
        name="王建国",
        department=cardiology,
        title="chief",
        specialties="冠心病介入治疗、复杂高血压",
        registration_fee=Decimal("80.00"),
    )
    today = timezone.localdate()
    open_ = ScheduleFactory(
        doctor=doctor, date=today + dt.timedelta(days=3), fee=Decimal("80.00"), room="3诊室"
    )
    full = ScheduleFactory(doctor=doctor, date=today + dt.timedelta(days=4), capacity=1)
    book_appointment(member=MemberFactory(), schedule=full, channel=Channel.WEB)
    later = ScheduleFactory(
        doctor=doctor,
        date=today + dt.timedelta(days=9),
        release_at=timezone.now() + dt.timedelta(days=2),
    )
    return {"doctor": doctor, "open": open_, "full": full, "later": later}


def test_sign_up_book_pay_see_cancel_and_get_the_refund(
    page, clinic, sms_log, jobs_run_at_once
) -> None:
    # Sign up, with the code read from the log.
    page.goto(page.base_url + "/accounts/signup/")
    page.get_by_label("姓名").fill("陈晓明")
    page.get_by_label("手机号").fill("139 1234 5678")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("密码（重复）").fill(PASSWORD)
    page.locator("input[name=accept_terms]").check()
    page.locator("input[name=accept_privacy]").check()
    screenshot(page, "portal-01-signup")
    page.get_by_role("button", name="注册并获取验证码").click()
    page.wait_for_url("**/accounts/phone/verify/")
    assert "139****5678" in page.locator("main").inner_text()
    screenshot(page, "portal-02-verify-phone")
    page.get_by_label("验证码").fill(sms_log.code())
    page.get_by_role("button", name="确认").click()
    page.wait_for_url(page.base_url + "/")
    assert Member.objects.get(name="陈晓明").phone_verified
    screenshot(page, "portal-03-signed-up")

    # Find the doctor by a condition.
    page.get_by_label("搜索医生").fill("高血压")
    page.get_by_role("button", name="搜索").click()
    screenshot(page, "portal-04-search")
    page.get_by_role("link", name="王建国").click()
    page.wait_for_url("**/doctors/*/")
    screenshot(page, "portal-05-doctor")

    # Book: confirm page, then the sandbox cashier.
    page.locator(f"#schedule-{clinic['open'].pk}").get_by_role("link", name="预约").click()
    assert page.locator(".amount").inner_text() == "¥80.00"
    screenshot(page, "portal-06-confirm")
    page.get_by_role("button", name="预约并支付").click()
    page.wait_for_url("**/payments/sandbox/**")
    screenshot(page, "portal-07-cashier")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_selector(".notice.ok")
    page.get_by_role("link", name="返回 MedBook").click()
    page.wait_for_url("**/appointments/*/")
    assert page.locator(".queue-number").inner_text() == "1"
    assert page.locator(".queue-time").inner_text() == "08:00"
    assert "已确认" in page.locator("#appointment-status").inner_text()
    screenshot(page, "portal-08-result")

    # My appointments.
    page.get_by_role("link", name="我的预约").first.click()
    assert "王建国" in page.locator(".appointment-list").inner_text()
    screenshot(page, "portal-09-my-appointments")

    # Cancel, with the refund shown first, then refunded.
    page.locator(".appointment-main").first.click()
    page.get_by_role("link", name="取消预约").click()
    assert "将退还 ¥80.00" in page.locator("main").inner_text()
    screenshot(page, "portal-10-cancel")
    page.get_by_role("button", name="确认取消").click()
    page.wait_for_url("**/appointments/*/")
    status = page.locator("#appointment-status").inner_text()
    assert "已取消" in status
    assert "已退款" in status and "¥80.00" in status
    screenshot(page, "portal-11-cancelled-refunded")

    # Messages tell the same story, with an unread count in the header.
    assert page.locator("#unread-count").count() == 1
    page.get_by_role("link", name="消息").click()
    titles = page.locator(".message-list").inner_text()
    # Held first (待支付, with the deadline), booked once paid.
    for title in ["待支付", "支付成功", "预约已取消", "退款成功"]:
        assert title in titles
    screenshot(page, "portal-12-messages")


def _log_in(page, member: Member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def test_a_full_session_cannot_be_booked_and_a_later_one_shows_when_it_opens(
    page, clinic, levels
) -> None:
    member = MemberFactory(name="赵敏", level=levels["金卡"])  # may book 12 hours early
    _log_in(page, member)
    page.goto(page.base_url + f"/doctors/{clinic['doctor'].pk}/")

    full = page.locator(f"#schedule-{clinic['full'].pk}")
    assert "约满" in full.inner_text()
    assert full.get_by_role("link", name="预约").count() == 0
    later = page.locator(f"#schedule-{clinic['later'].pk}")
    opens = timezone.localtime(clinic["later"].release_at)
    assert "未放号" in later.inner_text()
    assert opens.strftime("%H:%M") in later.inner_text()
    own = timezone.localtime(clinic["later"].release_at - dt.timedelta(hours=12))
    assert f"金卡会员：{own.month}月{own.day}日 {own:%H:%M} 起可约" in later.inner_text()
    screenshot(page, "portal-13-full-and-not-open")

    # Booking the full one anyway (an old link) explains why not.
    page.goto(page.base_url + f"/book/{clinic['full'].pk}/")
    page.get_by_role("alert").wait_for()
    assert "约满" in page.get_by_role("alert").inner_text() or "已约满" in page.content()
    screenshot(page, "portal-14-full-refused")


def test_membership_profile_and_english(page, clinic, levels) -> None:
    member = MemberFactory(name="孙丽", level=levels["银卡"], national_id="11010519491231002X")
    _log_in(page, member)
    page.goto(page.base_url + "/membership/")
    assert "银卡会员" in page.locator(".level-card").inner_text()
    screenshot(page, "portal-15-membership")
    page.goto(page.base_url + "/profile/")
    text = page.locator("main").inner_text()
    assert member.phone[3:] not in text and "110105********002X" in text
    screenshot(page, "portal-16-profile")

    page.select_option("#language", "en")
    page.get_by_role("heading", name="My profile").wait_for()
    page.goto(page.base_url + f"/doctors/{clinic['doctor'].pk}/")
    assert "Fully booked" in page.locator(".schedule-list").inner_text()
    screenshot(page, "portal-17-doctor-english")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "portal-18-doctor-english-desktop")


def test_the_slots_left_refresh_on_the_open_page_within_seconds(page, clinic) -> None:
    page.goto(page.base_url + f"/doctors/{clinic['doctor'].pk}/")
    session = page.locator(f"#schedule-{clinic['open'].pk}")
    assert "剩余 10 个号" in session.inner_text()

    book_appointment(member=MemberFactory(), schedule=clinic["open"], channel=Channel.WEB)

    session.get_by_text("剩余 9 个号").wait_for(timeout=8000)  # polled every 5 s
    screenshot(page, "portal-19-live-count")


def test_a_double_click_on_book_books_once(page, clinic, levels) -> None:
    member = MemberFactory(name="钱程")
    _log_in(page, member)
    page.goto(page.base_url + f"/book/{clinic['open'].pk}/")
    page.get_by_role("button", name="预约并支付").dblclick()
    page.wait_for_url("**/payments/sandbox/**")
    assert member.appointments.count() == 1
    clinic["open"].refresh_from_db()
    assert clinic["open"].booked == 1
