"""Names kept in Chinese and English (departments, doctors, specialties, rooms, levels) through
the API: the English one when the request is in English and one is set, else the Chinese name;
a member's request sent without Accept-Language is answered in the member's saved language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.billing.factories import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang():
    internal = DepartmentFactory(
        code="internal", name="内科", name_en="Internal Medicine", location="门诊楼二层"
    )
    return DoctorFactory(
        name="王建国",
        name_en="Wang Jianguo",
        department=internal,
        specialties="高血压",
        specialties_en="Hypertension",
    )


@pytest.fixture
def session(wang):
    return ScheduleFactory(doctor=wang, room="201诊室", room_en="Room 201", fee=Decimal("30"))


def test_the_catalogue_answers_in_english_when_asked(client, wang, session) -> None:
    doctor = call(client, "get", "doctor", args=[wang.pk]).json()
    assert (doctor["name"], doctor["specialties"]) == ("Wang Jianguo", "Hypertension")
    assert doctor["department"]["name"] == "Internal Medicine"
    # No English location set: the Chinese one.
    assert doctor["department"]["location"] == "门诊楼二层"
    sessions = call(client, "get", "doctor_sessions", args=[wang.pk]).json()
    assert sessions[0]["room"] == "Room 201"
    departments = call(client, "get", "departments").json()
    assert [d["name"] for d in departments] == ["Internal Medicine"]


def test_the_catalogue_answers_in_chinese_by_default(client, wang, session) -> None:
    doctor = call(client, "get", "doctor", args=[wang.pk], language="zh-hans").json()
    assert (doctor["name"], doctor["specialties"]) == ("王建国", "高血压")
    assert doctor["department"]["name"] == "内科"
    sessions = call(client, "get", "doctor_sessions", args=[wang.pk], language="zh-hans").json()
    assert sessions[0]["room"] == "201诊室"


def test_an_empty_english_name_falls_back_to_the_chinese(client) -> None:
    doctor = DoctorFactory(name="赵强", name_en="", specialties="骨折", specialties_en="")
    body = call(client, "get", "doctor", args=[doctor.pk]).json()
    assert (body["name"], body["specialties"]) == ("赵强", "骨折")


def test_a_members_appointment_and_level_are_named_in_english(
    client, member, levels, session
) -> None:
    levels["普通"].name_en = "Standard"
    levels["普通"].save(update_fields=["name_en"])
    appointment = book(member, session)
    token = pair_for(member.user).access

    body = call(client, "get", "appointment", token=token, args=[appointment.pk]).json()
    assert body["schedule"]["doctor"]["name"] == "Wang Jianguo"
    assert body["schedule"]["department"]["name"] == "Internal Medicine"
    assert body["schedule"]["room"] == "Room 201"
    assert call(client, "get", "me", token=token).json()["level"]["name"] == "Standard"
    membership = call(client, "get", "membership", token=token).json()
    assert membership["level"]["name"] == "Standard"
    chinese = call(client, "get", "me", token=token, language="zh-hans").json()
    assert chinese["level"]["name"] == "普通会员"


def test_without_accept_language_a_member_gets_their_saved_language(member, wang, session) -> None:
    member.language = "en"
    member.save(update_fields=["language"])
    appointment = book(member, session)
    bare = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {pair_for(member.user).access}"}

    response = bare.get(f"/api/v1/appointments/{appointment.pk}/", **auth)
    assert response["Content-Language"] == "en"
    assert response.json()["schedule"]["doctor"]["name"] == "Wang Jianguo"
    refused = bare.get("/api/v1/appointments/999999/", **auth)
    assert error(refused) == (404, "not_found") and refused.json()["error"]["message"] == (
        "Not found."
    )
    # The header still wins when sent.
    asked = bare.get(
        f"/api/v1/appointments/{appointment.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans", **auth
    )
    assert asked["Content-Language"] == "zh-hans"
    assert asked.json()["schedule"]["doctor"]["name"] == "王建国"
