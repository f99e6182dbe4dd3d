"""Verifying a patient (就诊人): online by the member, or in person at the front desk. A match
verifies the patient and fixes their name and ID; pages are scoped to the account."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from identity import services
from identity.choices import Channel
from identity.exceptions import AlreadyVerified, NotVerifiable
from identity.models import VerificationAttempt
from medbook.errors import Invalid
from medbook.models import OperationLog
from members.patients import add_patient, update_patient

pytestmark = pytest.mark.django_db

PARENT = {"name": "张伟", "relation": "parent", "id_number": "310104199003051239"}  # matches


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def parent(member):
    return add_patient(member=member, **PARENT)


def test_a_match_verifies_the_patient_online(member, parent) -> None:
    attempt = services.verify_patient(patient=parent, by=member.user)
    parent.refresh_from_db()
    assert attempt.outcome == "match" and attempt.patient == parent
    assert parent.is_verified and parent.verified_by is None  # online: no desk login
    log = OperationLog.objects.get(action="identity.verify")
    assert log.detail["patient"] == parent.pk and "张伟" not in log.target_label


def test_after_it_the_name_and_id_are_fixed(member, parent) -> None:
    services.verify_patient(patient=parent, by=member.user)
    parent.refresh_from_db()
    with pytest.raises(Invalid):
        update_patient(patient=parent, changes={"name": "张三"})


def test_a_mismatch_leaves_the_patient_unverified(member) -> None:
    patient = add_patient(
        member=member, name="李娜", relation="parent", id_number=PARENT["id_number"]
    )
    attempt = services.verify_patient(patient=patient, by=member.user)
    patient.refresh_from_db()
    assert attempt.outcome == "mismatch" and not patient.is_verified


def test_a_verified_patient_is_not_checked_again(member, parent) -> None:
    services.verify_patient(patient=parent, by=member.user)
    with pytest.raises(AlreadyVerified):
        services.verify_patient(patient=parent, by=member.user)
    assert VerificationAttempt.objects.count() == 1


def test_a_passport_goes_to_the_desk(member) -> None:
    patient = add_patient(
        member=member,
        name="John Smith",
        relation="spouse",
        id_type="passport",
        id_number="E12345678",
    )
    with pytest.raises(NotVerifiable):
        services.verify_patient(patient=patient, by=member.user)
    assert not VerificationAttempt.objects.exists()


def test_the_desk_verifies_in_person_any_document(member, front_desk) -> None:
    patient = add_patient(
        member=member,
        name="John Smith",
        relation="spouse",
        id_type="passport",
        id_number="E12345678",
    )
    attempt = services.confirm_in_person(patient=patient, by=front_desk)
    patient.refresh_from_db()
    assert patient.is_verified and patient.verified_by == front_desk
    assert (attempt.provider, attempt.channel, attempt.outcome) == ("in_person", "desk", "match")
    assert OperationLog.objects.get(action="identity.verify").actor == front_desk


def test_the_desk_can_also_ask_the_provider(member, front_desk) -> None:
    attempt = add_patient(member=member, **PARENT)
    attempt = services.verify_patient(patient=attempt, by=front_desk, channel=Channel.DESK)
    assert attempt.channel == "desk" and attempt.outcome == "match"


# -- the member's page ----------------------------------------------------------------------------


def test_the_member_verifies_on_the_patients_page(member, parent) -> None:
    client = logged_in(member.user)
    url = reverse("identity:verify_patient", args=[parent.pk])
    page = client.get(url)
    assert page.status_code == 200 and "310104********1239" in page.content.decode()
    answer = client.post(url, follow=True)
    assert answer.redirect_chain == [(url, 302)]
    text = answer.content.decode()
    assert 'id="verify-status"' in text and "310104199003051239" not in text
    parent.refresh_from_db()
    assert parent.is_verified


def test_a_mismatch_is_told_on_the_page(member) -> None:
    patient = add_patient(
        member=member, name="李娜", relation="parent", id_number=PARENT["id_number"]
    )
    answer = logged_in(member.user).post(
        reverse("identity:verify_patient", args=[patient.pk]), follow=True
    )
    assert "姓名与证件号不一致" in answer.content.decode()


def test_too_many_attempts_is_a_429_with_a_message(member, settings) -> None:
    settings.MEDBOOK_REALNAME_RATE_USER = "1/3600"
    patient = add_patient(
        member=member, name="李娜", relation="parent", id_number=PARENT["id_number"]
    )
    client = logged_in(member.user)
    url = reverse("identity:verify_patient", args=[patient.pk])
    client.post(url)
    refused = client.post(url)
    assert refused.status_code == 429
    assert "认证次数过多" in refused.content.decode()


def test_a_provider_failure_is_a_message_not_a_500(member, faceid) -> None:
    faceid.behaviour = "malformed"
    patient = add_patient(
        member=member, name="韦小宝", relation="parent", id_number="440305199505132561"
    )
    answer = logged_in(member.user).post(
        reverse("identity:verify_patient", args=[patient.pk]), follow=True
    )
    assert answer.status_code == 200
    assert "暂时无法完成核验" in answer.content.decode()


def test_another_members_patient_is_not_found(other_member, parent) -> None:
    client = logged_in(other_member.user)
    url = reverse("identity:verify_patient", args=[parent.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not VerificationAttempt.objects.exists()


# -- the desk --------------------------------------------------------------------------------------


def test_the_member_page_lists_patients_with_the_in_person_action(member, parent, front_desk):
    page = logged_in(front_desk).get(reverse("staff:member", args=[member.pk])).content.decode()
    assert f'data-patient="{parent.pk}"' in page
    assert reverse("staff:patient_verify_in_person", args=[parent.pk]) in page


def test_the_desk_confirms_in_person(member, parent, front_desk) -> None:
    url = reverse("staff:patient_verify_in_person", args=[parent.pk])
    client = logged_in(front_desk)
    assert client.post(url, {}).status_code == 400  # the tick is needed
    assert not VerificationAttempt.objects.exists()
    answer = client.post(url, {"document_seen": "on"})
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "staff:member", args=[member.pk]
    )
    parent.refresh_from_db()
    assert parent.verified_by == front_desk
    assert client.post(url, {"document_seen": "on"}).status_code == 409  # already verified


def test_a_doctor_may_not_verify_in_person(doctor_user, parent) -> None:
    url = reverse("staff:patient_verify_in_person", args=[parent.pk])
    assert logged_in(doctor_user).post(url, {"document_seen": "on"}).status_code == 403
    parent.refresh_from_db()
    assert not parent.is_verified


def test_attempts_are_read_only_in_django_admin(member, parent) -> None:
    from tests.conftest import enable_totp
    from tests.members.factories import UserFactory

    services.verify_patient(patient=parent, by=member.user)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    enable_totp(root)
    client = logged_in(root)
    listing = client.get(reverse("admin:identity_verificationattempt_changelist"))
    assert listing.status_code == 200 and "310104199003051239" not in listing.content.decode()
    assert client.get(reverse("admin:identity_verificationattempt_add")).status_code == 403


def test_the_patients_page_lists_the_patients_with_the_way_to_verify(member, parent) -> None:
    page = logged_in(member.user).get(reverse("members:patients")).content.decode()
    assert f'data-patient="{parent.pk}"' in page
    assert reverse("identity:verify_patient", args=[parent.pk]) in page
