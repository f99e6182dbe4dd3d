"""Issue 15: the demo's patients (就诊人) — every member is the holder patient of their
account, some families book for a child or a parent (valid IDs; one toddler without an ID,
registered with the guardian), every appointment names a patient of its own account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.models import Count, F, Q

from appointments.models import Appointment
from medbook.personal_data import validate_national_id
from members.models import IdType, Member, Patient, Relation
from members.patients import member_patients
from tests.demo.seeding import seeded_for_group

pytestmark = [pytest.mark.django_db]

SMALL = {"members": 60, "appointments": 500}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    with seeded_for_group(django_db_blocker, **SMALL):
        yield


def test_every_member_is_the_holder_patient_of_their_account(seeded) -> None:
    members = Member.objects.annotate(
        holders=Count("patients", filter=Q(patients__relation=Relation.SELF))
    )
    assert members.count() > 60  # the recent sign-ups too
    assert set(members.values_list("holders", flat=True)) == {1}
    holder = Patient.objects.filter(relation=Relation.SELF).select_related("member").first()
    assert (holder.name, holder.id_number) == (holder.member.name, holder.member.national_id)


def test_every_appointment_names_a_patient_of_its_own_account(seeded) -> None:
    assert Appointment.objects.count() >= 400
    assert not Appointment.objects.filter(patient__isnull=True).exists()
    assert not Appointment.objects.exclude(patient__member_id=F("member_id")).exists()


def test_some_appointments_are_for_a_relative(seeded) -> None:
    for_relatives = Appointment.objects.exclude(patient__relation=Relation.SELF)
    assert for_relatives.exists()
    # Children are seen in pediatrics, adults elsewhere.
    assert (
        not for_relatives.filter(patient__relation=Relation.CHILD)
        .exclude(schedule__doctor__department__code="pediatrics")
        .exists()
    )
    assert not Appointment.objects.filter(
        schedule__doctor__department__code="pediatrics", patient__relation=Relation.PARENT
    ).exists()


def test_the_first_demo_member_has_a_child_and_a_parent(seeded) -> None:
    member = Member.objects.get(user__username__endswith="0000000")
    assert member.masked_phone.startswith("138")
    patients = list(member_patients(member=member))
    relations = [p.relation for p in patients]
    assert relations[0] == Relation.SELF
    assert Relation.CHILD in relations and Relation.PARENT in relations
    child = next(p for p in patients if p.relation == Relation.CHILD)
    assert child.name == member.name[0] + "小明"


def test_relatives_have_valid_ids_and_one_toddler_has_a_guardian(seeded) -> None:
    relatives = Patient.objects.exclude(relation=Relation.SELF)
    assert relatives.count() >= 3
    for patient in relatives.exclude(id_type=IdType.NONE):
        assert validate_national_id(patient.id_number) == patient.id_number
        assert patient.id_number_index
    toddler = relatives.get(id_type=IdType.NONE)
    assert toddler.relation == Relation.CHILD and toddler.id_number == ""
    assert toddler.guardian_name == toddler.member.name
    assert toddler.guardian_id_number == toddler.member.national_id
