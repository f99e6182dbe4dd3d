"""Issue 15: the member's patients pages (就诊人管理) — list (holder first, masked ID,
verified badge), add (resident ID; a child without an ID with a guardian), edit (a verified
patient's name and ID fixed), remove (kept for history; refused while an appointment lies
ahead). Every refusal is a 4xx with its message and nothing written."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from medbook.models import OperationLog
from members.models import Patient, Relation
from members.patients import PatientHasAppointment, PatientIdTaken, add_patient, self_patient
from tests.appointments import factories as appointments
from tests.appointments.factories import ScheduleFactory
from tests.members.patient_ids import resident_id

pytestmark = pytest.mark.django_db


def _form(**fields: str) -> dict:
    data = {
        "name": "张小明",
        "relation": "child",
        "id_type": "resident",
        "id_number": "",
        "birth_date": "",
        "gender": "undisclosed",
        "guardian_name": "",
        "guardian_id_number": "",
        "phone": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def logged_in(client, member):
    client.force_login(member.user)
    return client


def test_it_lists_the_holder_first_with_masked_ids(logged_in, member) -> None:
    number = resident_id(dt.date(2015, 3, 1))
    add_patient(member=member, name="张小明", relation="child", id_number=number)
    page = logged_in.get(reverse("members:patients"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("张三") < html.index("张小明")
    assert number not in html
    assert number[:3] in html and number[-4:] in html  # masked: the ends only


def test_it_shows_the_verified_badge(logged_in, member) -> None:
    patient = self_patient(member=member)
    Patient.objects.filter(pk=patient.pk).update(verified_at=timezone.now())
    html = logged_in.get(reverse("members:patients")).content.decode()
    assert '<span class="pill ok">' in html


def test_profile_and_nav_link_to_the_patients(logged_in) -> None:
    html = logged_in.get(reverse("members:profile")).content.decode()
    assert html.count(reverse("members:patients")) >= 2  # the nav and the profile's card


def test_it_adds_a_relative_with_a_resident_id(logged_in, member) -> None:
    number = resident_id(dt.date(1958, 8, 8), male=False)
    response = logged_in.post(
        reverse("members:patient_add"),
        _form(name="王秀兰", relation="parent", id_number=number, phone="13912340000"),
    )
    assert response.status_code == 302
    patient = Patient.objects.get(member=member, name="王秀兰")
    assert patient.relation == Relation.PARENT
    assert patient.birth_date == dt.date(1958, 8, 8) and patient.gender == "female"
    assert OperationLog.objects.filter(action="patient.add").exists()


def test_it_adds_a_child_without_an_id_with_a_guardian(logged_in, member) -> None:
    guardian = resident_id(dt.date(1988, 1, 2))
    response = logged_in.post(
        reverse("members:patient_add"),
        _form(
            id_type="none",
            birth_date="2024-06-01",
            gender="male",
            guardian_name="张三",
            guardian_id_number=guardian,
        ),
    )
    assert response.status_code == 302
    child = Patient.objects.get(member=member, name="张小明")
    assert child.id_number == "" and child.guardian_id_number == guardian
    assert child.birth_date == dt.date(2024, 6, 1)


def test_a_child_without_an_id_needs_the_guardian(logged_in, member) -> None:
    response = logged_in.post(
        reverse("members:patient_add"),
        _form(id_type="none", birth_date="2024-06-01", gender="male"),
    )
    assert response.status_code == 400
    assert 'id="id_guardian_name_error"' in response.content.decode()
    assert not Patient.objects.filter(member=member, name="张小明").exists()


def test_a_bad_checksum_is_refused_on_the_field(logged_in, member) -> None:
    number = resident_id()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = logged_in.post(reverse("members:patient_add"), _form(id_number=wrong))
    assert response.status_code == 400
    assert 'id="id_id_number_error"' in response.content.decode()
    assert not Patient.objects.filter(member=member).exclude(relation="self").exists()


def test_one_id_is_one_patient_across_accounts(logged_in, member, other_member) -> None:
    number = resident_id(dt.date(2016, 2, 2))
    add_patient(member=other_member, name="张小明", relation="child", id_number=number)
    response = logged_in.post(reverse("members:patient_add"), _form(id_number=number))
    assert response.status_code == 409
    assert PatientIdTaken().message in unescape(response.content.decode())
    assert not Patient.objects.filter(member=member, name="张小明").exists()


def test_the_limit_is_refused(logged_in, member, settings) -> None:
    settings.MEDBOOK_MAX_PATIENTS = 2
    self_patient(member=member)
    add_patient(member=member, name="王秀兰", relation="parent", id_number=resident_id())
    page = logged_in.get(reverse("members:patients"))
    assert reverse("members:patient_add").encode() not in page.content.split(b"<main")[1]
    response = logged_in.post(
        reverse("members:patient_add"), _form(id_number=resident_id(dt.date(2017, 1, 1)))
    )
    assert response.status_code == 409
    assert Patient.objects.filter(member=member).count() == 2


def test_edit_keeps_the_id_when_left_empty(logged_in, member) -> None:
    number = resident_id(dt.date(2015, 3, 1))
    child = add_patient(member=member, name="张小明", relation="child", id_number=number)
    response = logged_in.post(
        reverse("members:patient_edit", args=[child.pk]),
        _form(name="张晓明", phone="13912340001"),
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.name, child.id_number, child.phone) == ("张晓明", number, "+8613912340001")


def test_a_verified_patients_name_and_id_are_fixed(logged_in, member) -> None:
    number = resident_id(dt.date(2015, 3, 1))
    child = add_patient(member=member, name="张小明", relation="child", id_number=number)
    Patient.objects.filter(pk=child.pk).update(verified_at=timezone.now())
    page = logged_in.get(reverse("members:patient_edit", args=[child.pk]))
    assert b'name="name"' in page.content and b"disabled" in page.content
    other = resident_id(dt.date(2015, 3, 2))
    response = logged_in.post(
        reverse("members:patient_edit", args=[child.pk]),
        _form(name="改名", id_number=other, phone="13912340002"),
    )
    assert response.status_code == 302  # the disabled fields are ignored: the rest saved
    child.refresh_from_db()
    assert (child.name, child.id_number, child.phone) == ("张小明", number, "+8613912340002")


def test_edit_refused_writes_nothing(logged_in, member, other_member) -> None:
    taken = resident_id(dt.date(2014, 4, 4))
    add_patient(member=other_member, name="李小", relation="child", id_number=taken)
    child = add_patient(member=member, name="张小明", relation="child", id_number=resident_id())
    response = logged_in.post(
        reverse("members:patient_edit", args=[child.pk]),
        _form(name="张晓明", id_number=taken),
    )
    assert response.status_code == 409
    child.refresh_from_db()
    assert child.name == "张小明"


def test_another_members_patient_is_a_404(client, member, other_member) -> None:
    theirs = add_patient(
        member=other_member, name="李小", relation="child", id_number=resident_id()
    )
    client.force_login(member.user)
    for name in ("members:patient_edit", "members:patient_remove"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
        assert client.post(reverse(name, args=[theirs.pk]), _form()).status_code == 404
    theirs.refresh_from_db()
    assert theirs.removed_at is None


def test_remove_keeps_the_record(logged_in, member) -> None:
    child = add_patient(member=member, name="张小明", relation="child", id_number=resident_id())
    assert logged_in.get(reverse("members:patient_remove", args=[child.pk])).status_code == 200
    response = logged_in.post(reverse("members:patient_remove", args=[child.pk]))
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.removed_at is not None
    assert 'patient-name">张小明' not in logged_in.get(reverse("members:patients")).content.decode()


def test_remove_is_refused_with_an_appointment_ahead(logged_in, member) -> None:
    child = add_patient(member=member, name="张小明", relation="child", id_number=resident_id())
    appointment = appointments.book(member, ScheduleFactory(fee=0))
    type(appointment).objects.filter(pk=appointment.pk).update(patient=child)
    response = logged_in.post(reverse("members:patient_remove", args=[child.pk]))
    assert response.status_code == 409
    assert PatientHasAppointment().message in unescape(response.content.decode())
    child.refresh_from_db()
    assert child.removed_at is None


def test_the_holder_cannot_be_removed(logged_in, member) -> None:
    holder = self_patient(member=member)
    response = logged_in.post(reverse("members:patient_remove", args=[holder.pk]))
    assert response.status_code == 400
    holder.refresh_from_db()
    assert holder.removed_at is None


def test_the_holder_edits_the_phone_but_not_their_name_or_id(logged_in, member) -> None:
    holder = self_patient(member=member)  # no ID on file yet: the desk adds it
    page = logged_in.get(reverse("members:patient_edit", args=[holder.pk]))
    assert page.status_code == 200
    response = logged_in.post(
        reverse("members:patient_edit", args=[holder.pk]),
        _form(name="别人", relation="self", id_number=resident_id(), phone="13912340003"),
    )
    assert response.status_code == 302
    holder.refresh_from_db()
    assert (holder.name, holder.id_number, holder.phone) == ("张三", "", "+8613912340003")
