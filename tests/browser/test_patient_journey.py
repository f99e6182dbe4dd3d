"""Issue 15 at 375 px: a member adds a child (no ID yet: birth date, sex and the guardian's
ID) and a parent (resident ID) on the patients page, sees a refusal with its message, and
books a session for the child: the confirm page, the ticket, the list and the message name
the child. Screenshots under
test-results/screenshots (patients-*.png)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment
from members.models import IdType, Patient, Relation
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import screenshot
from tests.members.factories import MemberFactory
from tests.members.patient_ids import resident_id

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def _no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _log_in(page, member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def test_a_member_adds_a_child_and_a_parent_and_books_for_the_child(page, levels) -> None:
    pediatrics = DepartmentFactory(name="儿科", code="pediatrics", location="儿科楼1层")
    doctor = DoctorFactory(name="李春燕", department=pediatrics, title="attending")
    session = ScheduleFactory(
        doctor=doctor, date=timezone.localdate() + dt.timedelta(days=2), fee=0, room="儿科2诊室"
    )
    guardian_id = resident_id(dt.date(1988, 3, 9))
    member = MemberFactory(name="张伟", level=levels["普通"], national_id=guardian_id)
    _log_in(page, member)

    page.get_by_role("link", name="就诊人").first.click()
    page.wait_for_url("**/profile/patients/")
    assert "张伟" in page.locator(".patient-list").inner_text()
    assert "本人" in page.locator(".patient-list").inner_text()
    assert _no_sideways_scrolling(page)
    screenshot(page, "patients-01-list")

    # A toddler without an ID: forgetting the guardian is refused, nothing is added.
    page.get_by_role("link", name="添加就诊人").click()
    page.get_by_label("姓名", exact=True).fill("张小明")
    page.get_by_label("与您的关系").select_option("child")
    page.get_by_label("证件类型").select_option("none")
    born = timezone.localdate() - dt.timedelta(days=700)
    page.get_by_label("出生日期").fill(born.isoformat())
    page.get_by_label("性别").select_option("male")
    page.get_by_role("button", name="添加就诊人").click()
    assert "请输入监护人姓名" in page.locator("main").inner_text()
    assert not Patient.objects.filter(member=member, name="张小明").exists()
    assert _no_sideways_scrolling(page)
    screenshot(page, "patients-02-refused")
    page.get_by_label("监护人姓名").fill("张伟")
    page.get_by_label("监护人证件号").fill(guardian_id)
    page.get_by_role("button", name="添加就诊人").click()
    page.wait_for_url("**/profile/patients/")
    child = Patient.objects.get(member=member, name="张小明")
    assert (child.relation, child.id_type, child.birth_date) == (
        Relation.CHILD,
        IdType.NONE,
        born,
    )

    # A parent with a resident ID: birth date and sex come from the number.
    page.get_by_role("link", name="添加就诊人").click()
    page.get_by_label("姓名", exact=True).fill("张建国")
    page.get_by_label("与您的关系").select_option("parent")
    page.get_by_label("证件号码", exact=True).fill(resident_id(dt.date(1960, 7, 1)))
    screenshot(page, "patients-03-add-parent")
    page.get_by_role("button", name="添加就诊人").click()
    page.wait_for_url("**/profile/patients/")
    listed = page.locator(".patient-list").inner_text()
    assert listed.index("张伟") < listed.index("张小明") < listed.index("张建国")
    assert "暂无证件 · 监护人 张伟" in listed
    assert Patient.objects.get(member=member, name="张建国").birth_date == dt.date(1960, 7, 1)
    assert _no_sideways_scrolling(page)
    screenshot(page, "patients-04-family")

    # Book for the child: the confirm page offers the family, the holder first.
    page.goto(page.base_url + f"/doctors/{doctor.pk}/")
    page.locator(f"#schedule-{session.pk}").get_by_role("link", name="预约").click()
    page.locator(".patient-choice").get_by_role("link", name="张小明").click()
    assert "张小明" in page.locator("#book-patient").inner_text()
    assert _no_sideways_scrolling(page)
    screenshot(page, "patients-05-confirm-for-child")
    page.get_by_role("button", name="预约", exact=True).click()
    page.wait_for_url("**/appointments/*/")
    ticket = page.locator(".ticket-patient").inner_text()
    assert "张小明" in ticket and "子女" in ticket
    assert _no_sideways_scrolling(page)
    screenshot(page, "patients-06-ticket")
    booked = Appointment.objects.get(schedule=session)
    assert (booked.patient, booked.member) == (child, member)

    # My appointments and the message say who the patient is.
    page.get_by_role("link", name="我的预约").first.click()
    assert "张小明 (子女)" in page.locator(".appointment-list").inner_text()
    screenshot(page, "patients-07-my-appointments")
    page.get_by_role("link", name="消息").first.click()
    page.locator(".message-list a").first.click()
    assert "张小明" in page.locator("main").inner_text()
    screenshot(page, "patients-08-message")
