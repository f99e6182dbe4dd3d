"""axe-core (the accessibility engine behind Lighthouse) on every member page, phone-sized:
no serious or critical violations (labels, contrast, names of links and buttons, landmarks)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from appointments.choices import Channel
from billing import services
from members.services import send_message
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['target']})"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical", "moderate", "minor"}
    ]


def test_member_pages_have_no_serious_accessibility_violations(page, levels) -> None:
    doctor = DoctorFactory(
        name="李雪", department=DepartmentFactory(name="儿科"), specialties="小儿哮喘"
    )
    schedule = ScheduleFactory(doctor=doctor, fee=Decimal("50.00"))
    ScheduleFactory(
        doctor=doctor,
        date=timezone.localdate() + dt.timedelta(days=8),
        release_at=timezone.now() + dt.timedelta(days=1),
    )
    member = MemberFactory(name="周琳", level=levels["银卡"])
    member.user.set_password(PASSWORD)
    member.user.save()
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("80.00")), channel=Channel.WEB
    )
    send_message(member=member, kind="booked", title="预约成功", body="已为您保留号源。")

    public = [
        "/",
        "/?q=哮喘",
        f"/doctors/{doctor.pk}/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ]
    members_only = [
        f"/book/{schedule.pk}/",
        "/appointments/",
        f"/appointments/{appointment.pk}/",
        f"/appointments/{appointment.pk}/cancel/",
        "/membership/",
        "/messages/",
        "/profile/",
        "/accounts/phone/change/",
    ]
    problems = {}
    for path in public:
        page.goto(page.base_url + path)
        if found := _serious(page):
            problems[path] = found

    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")
    for path in members_only:
        page.goto(page.base_url + path)
        if found := _serious(page):
            problems[path] = found

    assert not problems, problems


def _focused_text(page) -> str:
    return page.evaluate("(document.activeElement && document.activeElement.innerText) || ''")


def _tab_to(page, text: str) -> None:
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(_focused_text(page).strip())
        if seen[-1].startswith(text):
            return
    raise AssertionError(f"{text!r} cannot be reached with the Tab key; focus went {seen}")


def test_the_journey_works_from_the_keyboard(page, levels) -> None:
    doctor = DoctorFactory(name="李雪", department=DepartmentFactory(name="儿科"))
    ScheduleFactory(doctor=doctor)
    page.goto(page.base_url + "/")
    page.keyboard.press("Tab")
    assert _focused_text(page) == "跳到正文"
    page.keyboard.press("Enter")
    _tab_to(page, "李雪")
    page.keyboard.press("Enter")
    page.wait_for_url("**/doctors/*/")
    _tab_to(page, "登录后预约")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/login/**")
    assert page.evaluate("document.activeElement.tagName") in {"BODY", "INPUT"}
