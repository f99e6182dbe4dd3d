"""Issue 19 part 4: a patient's medical insurance card on the member's patient pages — add,
change, remove; the number encrypted, blind-indexed, masked; bad input a 400 with its message
and nothing written; only the account's own patients."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from medbook.models import OperationLog
from members.insurance import save_insurance_card
from members.models import InsuranceCard
from members.patients import self_patient

pytestmark = pytest.mark.django_db

NUMBER = "BJ1234567890"


def _form(**fields: str) -> dict:
    data = {
        "insurance_type": "employee",
        "insurer": "sandbox",
        "region": "北京市",
        "card_number": NUMBER,
    }
    data.update(fields)
    return data


@pytest.fixture
def logged_in(client, member):
    client.force_login(member.user)
    return client


def _url(patient) -> str:
    return reverse("members:patient_insurance", args=[patient.pk])


def test_it_adds_a_card_stored_encrypted_and_shown_masked(logged_in, member) -> None:
    patient = self_patient(member=member)

    response = logged_in.post(_url(patient), _form(card_number="bj 1234-567890"))

    assert response.status_code == 302
    card = InsuranceCard.objects.get(patient=patient)
    assert (card.card_number, card.insurance_type, card.region) == (NUMBER, "employee", "北京市")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT card_number, card_number_index FROM members_insurancecard WHERE id = %s",
            [card.pk],
        )
        stored, index = cursor.fetchone()
    assert NUMBER not in stored and index and NUMBER not in index
    html = logged_in.get(reverse("members:patients")).content.decode()
    assert NUMBER not in html and card.masked_card_number in html
    assert OperationLog.objects.filter(action="patient.insurance_add").exists()
    assert not OperationLog.objects.filter(detail__icontains=NUMBER).exists()


def test_an_invalid_card_number_is_a_400_with_its_message(logged_in, member) -> None:
    patient = self_patient(member=member)

    response = logged_in.post(_url(patient), _form(card_number="12#4"))

    assert response.status_code == 400
    assert "医保卡号由 8 到 20 位字母和数字组成" in response.content.decode()
    assert not InsuranceCard.objects.exists()


def test_an_unknown_insurance_type_is_a_400(logged_in, member) -> None:
    response = logged_in.post(_url(self_patient(member=member)), _form(insurance_type="gold"))
    assert response.status_code == 400
    assert not InsuranceCard.objects.exists()


def test_one_card_belongs_to_one_patient(logged_in, member, other_member) -> None:
    save_insurance_card(
        patient=self_patient(member=other_member),
        insurance_type="employee",
        insurer="sandbox",
        region="上海市",
        card_number=NUMBER,
        by=other_member.user,
    )

    response = logged_in.post(_url(self_patient(member=member)), _form())

    assert response.status_code == 409
    assert InsuranceCard.objects.count() == 1


def test_editing_keeps_the_number_when_left_empty_and_removing_deletes(logged_in, member) -> None:
    patient = self_patient(member=member)
    logged_in.post(_url(patient), _form())

    response = logged_in.post(_url(patient), _form(card_number="", insurance_type="resident"))

    assert response.status_code == 302
    card = InsuranceCard.objects.get(patient=patient)
    assert (card.card_number, card.insurance_type) == (NUMBER, "resident")
    assert NUMBER not in logged_in.get(_url(patient)).content.decode()
    assert logged_in.post(_url(patient), {"remove": "1"}).status_code == 302
    assert not InsuranceCard.objects.exists()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("member", 200),
        ("other_member", 404),
        ("front_desk", 403),
        ("doctor_user", 403),
        ("clinic_admin", 403),
    ],
)
def test_permissions_of_the_insurance_page(client, request, member, who, expected) -> None:
    patient = self_patient(member=member)
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))

    get = client.get(_url(patient))
    post = client.post(_url(patient), _form())

    assert get.status_code == expected
    assert post.status_code == (302 if who == "member" else expected)
    assert InsuranceCard.objects.exists() == (who == "member")
    if who == "anonymous":
        assert "/login" in get["Location"] or "login" in get["Location"]
