"""Issue 15: the account's patients through the API — list (holder first, masked), add,
correct, remove; the same refusals as the pages (one ID one patient, the limit, a verified
patient's name and ID fixed, an appointment ahead); another member's patient is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from members.models import Patient
from members.patients import add_patient, self_patient
from tests.api.helpers import call, error, pair_for
from tests.appointments import factories as appointments
from tests.appointments.factories import ScheduleFactory
from tests.members.patient_ids import resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(member) -> str:
    return pair_for(member.user).access


def test_it_lists_the_holder_first_masked(client, member, token) -> None:
    number = resident_id(dt.date(2015, 3, 1))
    add_patient(member=member, name="张小明", relation="child", id_number=number)
    response = call(client, "get", "patients", token=token)
    assert response.status_code == 200
    body = response.json()
    assert [(p["name"], p["relation"], p["is_self"]) for p in body] == [
        ("张三", "self", True),
        ("张小明", "child", False),
    ]
    assert number not in response.content.decode()
    assert body[1]["masked_id_number"].endswith(number[-4:])


def test_it_adds_a_child_without_an_id(client, member, token) -> None:
    guardian = resident_id(dt.date(1988, 1, 2))
    response = call(
        client,
        "post",
        "patients",
        {
            "name": "张小宝",
            "relation": "child",
            "id_type": "none",
            "birth_date": "2024-06-01",
            "gender": "female",
            "guardian_name": "张三",
            "guardian_id_number": guardian,
        },
        token=token,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["masked_id_number"] is None
    assert guardian not in response.content.decode()
    assert Patient.objects.get(member=member, name="张小宝").guardian_id_number == guardian


def test_one_id_one_patient_across_accounts(client, member, other_member, token) -> None:
    number = resident_id()
    add_patient(member=other_member, name="李爸", relation="parent", id_number=number)
    response = call(
        client,
        "post",
        "patients",
        {"name": "张爸", "relation": "parent", "id_number": number},
        token=token,
    )
    assert error(response) == (409, "patient_id_taken")
    assert not Patient.objects.filter(member=member, name="张爸").exists()


def test_the_limit(client, member, token, settings) -> None:
    settings.MEDBOOK_MAX_PATIENTS = 1
    self_patient(member=member)
    response = call(
        client,
        "post",
        "patients",
        {"name": "张爸", "relation": "parent", "id_number": resident_id()},
        token=token,
    )
    assert error(response) == (409, "too_many_patients")


def test_bad_details_name_the_field(client, token) -> None:
    response = call(client, "post", "patients", {"name": "张爸", "relation": "parent"}, token=token)
    assert error(response) == (400, "invalid")
    assert "id_number" in response.json()["error"]["fields"]
    holder = call(client, "post", "patients", {"name": "我", "relation": "self"}, token=token)
    assert holder.status_code == 400


def test_patch_changes_only_what_is_sent(client, member, token) -> None:
    number = resident_id()
    parent = add_patient(member=member, name="王秀兰", relation="parent", id_number=number)
    response = call(
        client,
        "patch",
        "patient",
        {"phone": "13912340009"},
        token=token,
        args=[parent.pk],
    )
    assert response.status_code == 200, response.json()
    parent.refresh_from_db()
    assert (parent.name, parent.id_number, parent.phone) == ("王秀兰", number, "+8613912340009")


def test_a_verified_patients_name_is_fixed(client, member, token) -> None:
    parent = add_patient(member=member, name="王秀兰", relation="parent", id_number=resident_id())
    Patient.objects.filter(pk=parent.pk).update(verified_at=timezone.now())
    response = call(client, "patch", "patient", {"name": "王兰"}, token=token, args=[parent.pk])
    assert error(response) == (400, "invalid")
    parent.refresh_from_db()
    assert parent.name == "王秀兰"


def test_delete_removes_and_keeps_history(client, member, token) -> None:
    parent = add_patient(member=member, name="王秀兰", relation="parent", id_number=resident_id())
    assert call(client, "delete", "patient", token=token, args=[parent.pk]).status_code == 204
    parent.refresh_from_db()
    assert parent.removed_at is not None
    assert call(client, "get", "patient", token=token, args=[parent.pk]).status_code == 404


def test_delete_refused_with_an_appointment_ahead(client, member, token) -> None:
    parent = add_patient(member=member, name="王秀兰", relation="parent", id_number=resident_id())
    appointment = appointments.book(member, ScheduleFactory(fee=0))
    type(appointment).objects.filter(pk=appointment.pk).update(patient=parent)
    response = call(client, "delete", "patient", token=token, args=[parent.pk])
    assert error(response) == (409, "patient_has_appointment")


def test_another_members_patient_is_a_404(client, other_member, token) -> None:
    theirs = add_patient(
        member=other_member, name="李小", relation="child", id_number=resident_id()
    )
    for method, body in (("get", None), ("patch", {"name": "x"}), ("delete", None)):
        response = call(client, method, "patient", body, token=token, args=[theirs.pk])
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.removed_at) == ("李小", None)


def test_the_holder_may_not_rename_themselves(client, member, token) -> None:
    holder = self_patient(member=member)
    response = call(client, "patch", "patient", {"name": "别人"}, token=token, args=[holder.pk])
    assert error(response) == (400, "invalid")
    holder.refresh_from_db()
    assert holder.name == "张三"
