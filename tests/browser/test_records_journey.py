"""Visit records in Chromium: the doctor calls the patient, writes the record (searching the
ICD-10 list with HTMX) and completes the visit; the member reads it on their phone, sees the
follow-up booking link and downloads the PDF; the doctor amends it and the front desk opens
the print view; the member sees it amended, in English too, at 375 and 1280 px.
Screenshots: test-results/screenshots/records-*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.choices import Channel
from appointments.services import book_appointment, check_in_appointment
from medbook.models import OperationLog
from medbook.roles import DOCTOR, FRONT_DESK
from records.models import RecordVersion
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, screenshot
from tests.browser.test_staff_journeys import log_in, person
from tests.conftest import started_ago
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Kq7!medbook-2026"


def _member_log_in(page, member) -> None:
    member.user.set_password(PASSWORD)
    member.user.save()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("手机号").fill(member.phone[3:])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base_url + "/")


def _log_out(page) -> None:
    page.context.clear_cookies()


def _phone(browser, live_server, violations: list[str]):
    """The member's own phone: a page of its own (the doctor stays logged in on ``page``)."""
    phone = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    phone.base_url = live_server.url
    phone.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return phone


def test_the_doctor_writes_a_record_and_the_patient_reads_and_downloads_it(
    page, browser, live_server, levels
):
    department = DepartmentFactory(name="呼吸内科", code="respiratory")
    doctor = DoctorFactory(
        name="李文", department=department, title="chief", user=person("drli", DOCTOR)
    )
    start = started_ago(dt.timedelta(minutes=20))
    session = ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(second=0, microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=3),
    )
    member = MemberFactory(name="赵敏", phone="+8613912340000")
    appointment = book_appointment(
        member=member, schedule=session, channel=Channel.WEB, now=start - dt.timedelta(hours=1)
    )
    check_in_appointment(appointment=appointment)

    # The doctor calls the patient and writes the record.
    page.set_viewport_size(DESKTOP)
    log_in(page, "drli")
    page.get_by_role("link", name="我的队列").first.click()
    page.get_by_role("button", name="叫下一位（1 人候诊）").click()
    page.locator("#write-record").click()
    page.get_by_label("主诉").fill("咽痛、咳嗽伴低热两天")
    page.locator("#diagnosis-search").fill("sxh")  # pinyin initials of 上呼吸道感染…
    page.locator("#diagnosis-search").fill("上呼吸道")
    option = page.locator('#diagnosis-options input[value="J06.9"]')
    option.wait_for()
    option.check()
    page.get_by_label("医嘱").fill("多饮水，注意休息；体温超过38.5℃请及时复诊")
    page.get_by_label("处方（每行一项）").fill(
        "连花清瘟胶囊 4粒 口服 每日三次\n布洛芬缓释胶囊 0.3g 口服 发热时服用"
    )
    follow_up = timezone.localdate() + dt.timedelta(days=7)
    page.get_by_label("复诊日期").fill(follow_up.isoformat())
    screenshot(page, "records-01-doctor-writes")
    page.get_by_role("button", name="保存并完成就诊").click()
    page.get_by_text(f"{appointment.queue_number} 号已完成就诊，病历已保存").wait_for()
    screenshot(page, "records-02-visit-completed")
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    record = appointment.visit_record

    # The patient reads it on their phone and downloads the PDF.
    violations: list[str] = []
    phone = _phone(browser, live_server, violations)
    _member_log_in(phone, member)
    phone.get_by_role("link", name="我的病历").click()
    phone.get_by_text("J06.9 急性上呼吸道感染").wait_for()
    screenshot(phone, "records-03-member-list-375")
    phone.locator(f'[data-record="{record.pk}"] a').click()
    assert "连花清瘟胶囊 4粒 口服 每日三次" in phone.locator(".prescriptions").inner_text()
    assert phone.locator("#book-follow-up").get_attribute("href") == f"/doctors/{doctor.pk}/"
    screenshot(phone, "records-04-member-record-375")
    with phone.expect_download() as download:
        phone.locator("#download-pdf").click()
    pdf = download.value
    assert pdf.suggested_filename == f"medbook-record-{record.pk}-v1.pdf"
    with open(pdf.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    # The PDF as Chromium's viewer shows it (Chinese in STSong-Light, no font file shipped).
    saved = ARTIFACTS / "records-visit.pdf"
    pdf.save_as(saved)
    viewer = browser.new_context(viewport=DESKTOP).new_page()
    viewer.goto(saved.as_uri())
    viewer.wait_for_timeout(2000)
    viewer.screenshot(path=str(ARTIFACTS / "records-05-pdf.png"))
    viewer.context.close()

    # The doctor amends it; the front desk opens the print view (both logged).
    page.goto(page.base_url + f"/staff/appointments/{appointment.pk}/record/")
    page.get_by_label("医嘱").fill("多饮水，注意休息；一周内避免剧烈运动")
    page.get_by_label("更正原因").fill("补充医嘱")
    page.get_by_role("button", name="保存更正").click()
    page.get_by_text("病历已更正").wait_for()
    assert RecordVersion.objects.filter(record=record).count() == 2
    _log_out(page)
    person("desk", FRONT_DESK)
    log_in(page, "desk")
    page.goto(page.base_url + f"/staff/records/{record.pk}/")
    page.get_by_text("已于").wait_for()
    screenshot(page, "records-06-desk-print-view")
    page.emulate_media(media="print")
    screenshot(page, "records-07-desk-printed")
    page.emulate_media(media="screen")
    actions = set(
        OperationLog.objects.filter(target_id=str(record.pk)).values_list("action", flat=True)
    )
    assert {"visit_record.write", "visit_record.amend", "visit_record.view_page"} <= actions

    # The member sees it amended, the old version kept; in English at 1280 px.
    phone.goto(phone.base_url + f"/records/{record.pk}/")
    assert "补充医嘱" in phone.locator(".record-amended").inner_text()
    phone.locator(".record-earlier summary").click()
    assert "体温超过38.5℃" in phone.locator('[data-version="1"]').inner_text()
    screenshot(phone, "records-08-member-amended-375")
    phone.set_viewport_size(DESKTOP)
    phone.locator("#language").select_option("en")
    phone.get_by_text("Acute upper respiratory infection, unspecified").first.wait_for()
    screenshot(phone, "records-09-member-english-1280")
    phone.set_viewport_size(PHONE)
    screenshot(phone, "records-10-member-english-375")
    phone.context.close()
    assert not violations, violations
