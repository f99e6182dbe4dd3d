"""Visit records: the doctor writes one as the visit completes; corrections are new versions
(the old kept, shown as amended); the text is encrypted at rest and the tables append-only;
members read their own account's records only; every staff view is in the operation log."""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from appointments.choices import AppointmentStatus
from medbook.models import OperationLog
from members.patients import add_patient
from records import icd10, services
from records.models import RecordVersion, VisitRecord
from records.services import RecordText
from tests.members.patient_ids import resident_id
from tests.records.factories import TEXT, checked_in, written

pytestmark = pytest.mark.django_db

FORM = {
    "chief_complaint": "咳嗽、咽痛两天",
    "diagnosis_code": "J06.9",
    "advice": "多饮水，注意休息",
    "prescriptions": "连花清瘟胶囊 4粒 每日三次\n布洛芬缓释胶囊 0.3g 必要时",
}


def _pdf_text_streams(content: bytes) -> bytes:
    """The PDF's page content, decoded (reportlab writes ASCII85 over Flate), with the string
    escapes (``\\000``) undone, so UTF-16 text reads as it was written."""
    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)~>\s*endstream", content, re.S):
        out += zlib.decompress(base64.a85decode(match.group(1) + b"~>", adobe=True))
    return re.sub(
        rb"\\([0-7]{1,3}|.)",
        lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit() else m.group(1),
        out,
    )


# -- the doctor writes ---------------------------------------------------------------------


def test_it_completes_the_visit_with_the_record(client, member, doctor_user) -> None:
    appointment = checked_in(member, doctor_user)
    client.force_login(doctor_user)
    url = reverse("staff:appointment_record", args=[appointment.pk])
    page = client.get(url)
    assert page.status_code == 200 and "diagnosis-search" in page.content.decode()

    follow_up = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(url, {**FORM, "follow_up_on": follow_up})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    version = RecordVersion.objects.get(record__appointment=appointment)
    assert (version.number, version.diagnosis_code, version.prescription_lines[1]) == (
        1,
        "J06.9",
        "布洛芬缓释胶囊 0.3g 必要时",
    )
    assert OperationLog.objects.filter(action="visit_record.write", actor=doctor_user).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"diagnosis_code": "X99.9"}, "diagnosis_code"),  # not in the shipped list
        ({"diagnosis_code": ""}, "diagnosis_code"),
        ({"chief_complaint": "   "}, "chief_complaint"),
        ({"follow_up_on": "2001-01-01"}, "follow_up_on"),
        ({"follow_up_on": "not a date"}, "follow_up_on"),
        ({"prescriptions": "\n".join(["x"] * 31)}, "prescriptions"),
    ],
)
def test_bad_input_is_a_400_on_its_field_and_writes_nothing(
    client, member, doctor_user, change, field
) -> None:
    appointment = checked_in(member, doctor_user)
    client.force_login(doctor_user)
    response = client.post(
        reverse("staff:appointment_record", args=[appointment.pk]), {**FORM, **change}
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN  # the visit is not completed
    assert not VisitRecord.objects.exists()


def test_another_doctors_patient_is_a_404(client, member, doctor_user) -> None:
    from medbook.roles import DOCTOR
    from tests.appointments.factories import DoctorFactory
    from tests.conftest import staff_user

    other = staff_user("doctor2", DOCTOR)
    DoctorFactory(user=other)
    appointment = checked_in(member, doctor_user)
    client.force_login(other)
    url = reverse("staff:appointment_record", args=[appointment.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, FORM).status_code == 404
    assert not VisitRecord.objects.exists()


def test_a_visit_gets_one_record(member, doctor_user) -> None:
    record = written(member, doctor_user)
    with pytest.raises(services.AlreadyWritten):
        services.write_record(appointment=record.appointment, text=TEXT, by=doctor_user)
    assert record.versions.count() == 1


def test_a_cancelled_visit_is_refused(member, doctor_user) -> None:
    from records.exceptions import NotAtVisit
    from tests.appointments.factories import ScheduleFactory, book

    appointment = book(member, ScheduleFactory(doctor=doctor_user.doctor, fee=0))
    with pytest.raises(NotAtVisit):
        services.write_record(appointment=appointment, text=TEXT, by=doctor_user)
    assert not VisitRecord.objects.exists()


# -- amendments ----------------------------------------------------------------------------


def test_an_amendment_is_a_new_version_and_the_old_one_is_kept(client, member, doctor_user):
    record = written(member, doctor_user)
    client.force_login(doctor_user)
    url = reverse("staff:appointment_record", args=[record.appointment_id])
    form = client.get(url)
    assert form.context["form"]["chief_complaint"].value() == TEXT.chief_complaint
    response = client.post(
        url,
        {
            "chief_complaint": TEXT.chief_complaint,
            "diagnosis_code": "I11.9",
            "advice": TEXT.advice,
            "prescriptions": TEXT.prescriptions,
            "reason": "诊断更正：超声心动图示左室肥厚",
        },
    )
    assert response.status_code == 302
    versions = list(record.versions.order_by("number"))
    assert [(v.number, v.diagnosis_code) for v in versions] == [(1, "I10"), (2, "I11.9")]
    assert versions[1].amendment_reason == "诊断更正：超声心动图示左室肥厚"
    assert versions[1].author == doctor_user
    log = OperationLog.objects.get(action="visit_record.amend")
    assert log.detail == {"version": 2} and log.target_id == str(record.pk)

    # The member sees the current version, marked amended, and the old one kept.
    client.force_login(member.user)
    page = client.get(reverse("records:detail", args=[record.pk])).content.decode()
    assert "I11.9" in page and "诊断更正" in page
    assert 'data-version="1"' in page and "I10" in page


def test_an_amendment_needs_a_reason_and_a_change(member, doctor_user) -> None:
    from medbook.errors import Invalid

    record = written(member, doctor_user)
    with pytest.raises(Invalid) as missing:
        services.amend_record(record=record, text=TEXT, reason=" ", by=doctor_user)
    assert missing.value.field == "reason"
    with pytest.raises(Invalid):
        services.amend_record(record=record, text=TEXT, reason="重写", by=doctor_user)
    assert record.versions.count() == 1


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_record(member, doctor_user) -> None:
    record = written(member, doctor_user)
    version = record.versions.get()
    for statement in (
        "UPDATE records_recordversion SET number = 5 WHERE id = %s",
        "DELETE FROM records_recordversion WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [version.pk])
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM records_visitrecord WHERE id = %s", [record.pk])


def test_the_text_is_encrypted_at_rest(member, doctor_user) -> None:
    record = written(member, doctor_user)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chief_complaint, diagnosis_code, advice, prescriptions "
            "FROM records_recordversion WHERE record_id = %s",
            [record.pk],
        )
        stored = cursor.fetchone()
    assert all(value.startswith("v1$") for value in stored)
    assert not any("头痛" in v or "I10" in v or "氨氯地平" in v for v in stored)


# -- members read their own ----------------------------------------------------------------


def test_a_member_reads_the_records_of_their_patients_only(
    client, member, other_member, doctor_user
) -> None:
    child = add_patient(
        member=member,
        name="张小明",
        relation="child",
        id_type="none",
        gender="male",
        birth_date=dt.date(2018, 5, 1),
        guardian_name="张三",
        guardian_id_number="11010519491231002X",
    )
    own = written(member, doctor_user)
    childs = written(member, doctor_user, patient=child)
    theirs = written(other_member, doctor_user)

    client.force_login(member.user)
    listed = client.get(reverse("records:list"))
    assert [v.record.pk for v in listed.context["records"]] == [childs.pk, own.pk] or {
        v.record.pk for v in listed.context["records"]
    } == {own.pk, childs.pk}
    only_child = client.get(reverse("records:list"), {"patient": child.pk})
    assert [v.record.pk for v in only_child.context["records"]] == [childs.pk]
    junk = client.get(reverse("records:list"), {"patient": "x'; drop"})
    assert junk.status_code == 200 and len(junk.context["records"]) == 2
    for name in ("records:detail", "records:pdf"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404


def test_the_list_page_makes_few_queries(client, member, doctor_user, django_assert_num_queries):
    for i in range(3):  # one visit per department a day: three relatives
        relative = add_patient(
            member=member,
            name=f"家人{i}",
            relation="parent",
            id_number=resident_id(dt.date(1950 + i, 1, 2)),
        )
        written(member, doctor_user, patient=relative)
    client.force_login(member.user)
    with django_assert_num_queries(6):  # the records and their versions: two of them
        response = client.get(reverse("records:list"))
    assert len(response.context["records"]) == 3


def test_the_pdf_holds_the_record_in_chinese(client, member, doctor_user) -> None:
    record = written(member, doctor_user)
    services.amend_record(
        record=record,
        text=RecordText(**{**TEXT.__dict__, "advice": "低盐低脂饮食"}),
        reason="补充医嘱",
        by=doctor_user,
    )
    client.force_login(member.user)
    response = client.get(reverse("records:pdf", args=[record.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"%PDF") and b"STSong-Light" in content
    text = _pdf_text_streams(content)
    for phrase in ("原发性高血压", "低盐低脂饮食", "氨氯地平片", "补充医嘱", "头痛"):
        assert phrase.encode("utf-16-be") in text, phrase


def test_a_follow_up_date_offers_the_doctors_sessions(client, member, doctor_user) -> None:
    day = timezone.localdate() + dt.timedelta(days=14)
    record = written(member, doctor_user, RecordText(**{**TEXT.__dict__, "follow_up_on": day}))
    client.force_login(member.user)
    page = client.get(reverse("records:detail", args=[record.pk])).content.decode()
    assert reverse("appointments:doctor_detail", args=[doctor_user.doctor.pk]) in page


# -- staff views are logged ----------------------------------------------------------------


def test_every_staff_view_of_a_record_is_in_the_operation_log(
    client, member, doctor_user, front_desk
) -> None:
    record = written(member, doctor_user)
    client.force_login(front_desk)
    assert client.get(reverse("staff:record", args=[record.pk])).status_code == 200
    assert client.get(reverse("staff:record_pdf", args=[record.pk])).status_code == 200
    client.force_login(doctor_user)
    client.get(reverse("staff:appointment_record", args=[record.appointment_id]))
    logged = OperationLog.objects.filter(target_type="records.visitrecord").order_by("pk")
    assert [(row.actor, row.action) for row in logged] == [
        (doctor_user, "visit_record.write"),
        (front_desk, "visit_record.view_page"),
        (front_desk, "visit_record.view_pdf"),
        (doctor_user, "visit_record.view_form"),
    ]
    assert all("头痛" not in row.target_label for row in logged)


def test_the_desk_finds_the_record_from_the_appointment(client, member, doctor_user, front_desk):
    record = written(member, doctor_user)
    client.force_login(front_desk)
    page = client.get(reverse("staff:appointment", args=[record.appointment_id]))
    assert reverse("staff:record", args=[record.pk]) in page.content.decode()


def test_a_member_reading_their_record_is_not_a_staff_view(client, member, doctor_user):
    record = written(member, doctor_user)
    client.force_login(member.user)
    client.get(reverse("records:detail", args=[record.pk]))
    assert not OperationLog.objects.filter(action__startswith="visit_record.view").exists()


# -- the ICD-10 list -----------------------------------------------------------------------


def test_the_icd10_list_is_searched_by_code_name_and_pinyin_initials(client, doctor_user):
    assert len(icd10.diagnoses()) >= 300
    assert icd10.diagnosis("i10").name_zh == "原发性高血压"
    assert icd10.diagnosis("J06.9").name_en == "Acute upper respiratory infection, unspecified"
    assert icd10.search("J06")[0].code == "J06.9"
    assert "I10" in [d.code for d in icd10.search("高血压")]
    assert "I10" in [d.code for d in icd10.search("gxy")]
    assert "I10" in [d.code for d in icd10.search("hypertension")]
    client.force_login(doctor_user)
    fragment = client.get(reverse("staff:diagnosis_search"), {"q": "上呼吸道"})
    assert fragment.status_code == 200 and 'value="J06.9"' in fragment.content.decode()
    nothing = client.get(reverse("staff:diagnosis_search"), {"q": "<script>" * 20})
    assert nothing.status_code == 200 and "<script>" not in nothing.content.decode()
