"""The triage page and "doctors for you", through the web client, on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.services import check_in_appointment, complete_appointment
from tests.appointments import factories
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

URL = "/triage/"


@pytest.fixture
def clinic(levels):
    """Cardiology with a doctor for arrhythmia (open soon) and a senior one without sessions;
    gastroenterology with one doctor."""
    cardiology = DepartmentFactory(code="cardiology", name="心血管内科", name_en="Cardiology")
    senior = DoctorFactory(
        name="王建国", department=cardiology, title="chief", specialties="冠心病介入、心力衰竭"
    )
    arrhythmia = DoctorFactory(
        name="刘慧敏", department=cardiology, title="associate_chief", specialties="心律失常、房颤"
    )
    ScheduleFactory(doctor=arrhythmia)
    gastro = DepartmentFactory(code="gastroenterology", name="消化内科")
    DoctorFactory(name="周文博", department=gastro, specialties="慢性胃炎")
    return {"cardiology": cardiology, "senior": senior, "arrhythmia": arrhythmia, "gastro": gastro}


def visit(member, doctor, *, days_ago: int, complete: bool = True):
    """A past visit of ``member`` with ``doctor``, ``days_ago`` days ago (free session)."""
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    schedule = ScheduleFactory(
        doctor=doctor, date=day, fee=0, release_at=timezone.now() - dt.timedelta(days=days_ago + 3)
    )
    appointment = factories.book(member, schedule, now=schedule.starts_at - dt.timedelta(hours=2))
    check_in_appointment(appointment=appointment, now=schedule.starts_at)
    if complete:
        complete_appointment(appointment=appointment, now=schedule.starts_at)
    return appointment


def test_it_shows_the_form_to_anyone(client, clinic) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert "胸闷 心慌 两天" in response.content.decode()
    assert 'id="for-you"' not in response.content.decode()


def test_it_ranks_cardiology_first_with_the_reason_and_doctor_links(
    client, clinic, django_assert_num_queries
) -> None:
    with django_assert_num_queries(3):  # the departments, their doctors; the footer's clinic
        response = client.post(URL, {"symptoms": "胸闷 心慌 两天"})

    assert response.status_code == 200
    result = response.context["result"]
    assert result.departments[0].department.code == "cardiology"
    first = result.departments[0]
    assert first.said == ("胸闷", "心慌")
    # Open soon first, and her specialties name the symptom
    assert [d.doctor.name for d in first.doctors] == ["刘慧敏", "王建国"]
    assert first.doctors[0].matched == (("心律失常", "心慌"),)
    html = response.content.decode()
    assert "胸闷、心慌 → 心血管内科" in html
    assert reverse("appointments:doctor_detail", args=[clinic["arrhythmia"].pk]) in html
    assert "no-store" in response["Cache-Control"]


def test_an_example_button_posts_its_own_text(client, clinic) -> None:
    response = client.post(URL, {"symptoms": "", "example": "胃疼 反酸"})
    assert response.status_code == 200
    assert response.context["result"].departments[0].department.code == "gastroenterology"


def test_an_empty_description_is_a_400_with_a_message(client, clinic) -> None:
    response = client.post(URL, {"symptoms": "   "})
    assert response.status_code == 400
    assert "请描述您的症状" in response.content.decode()
    assert "result" not in response.context


def test_a_too_long_description_is_a_400_with_a_message(client, clinic) -> None:
    response = client.post(URL, {"symptoms": "胸闷" * 101})
    assert response.status_code == 400
    assert "200 个字以内" in response.content.decode()


def test_a_too_long_example_is_a_400_with_a_message(client, clinic) -> None:
    response = client.post(URL, {"example": "胸闷" * 101})
    assert response.status_code == 400
    assert "200 个字以内" in response.content.decode()


def test_a_control_character_is_a_400(client, clinic) -> None:
    assert client.post(URL, {"symptoms": "胸闷\x00"}).status_code == 400


def test_a_red_flag_shows_the_emergency_notice_above_the_results(client, clinic) -> None:
    html = client.post(URL, {"symptoms": "胸痛，出了一身大汗"}).content.decode()
    assert "请立即就医或拨打120" in html
    assert html.index('id="red-flag"') < html.index('id="triage-result"')


def test_no_notice_without_a_red_flag(client, clinic) -> None:
    assert "拨打120！" not in client.post(URL, {"symptoms": "胃胀"}).content.decode()


def test_english_it_does_not_know_gets_a_please_write_chinese(client, clinic) -> None:
    html = client.post(URL, {"symptoms": "my elbow feels funny"}).content.decode()
    assert "请用中文描述症状" in html
    assert "describe your symptoms in Chinese" in html


def test_simple_english_symptoms_are_understood_in_the_english_ui(client, clinic) -> None:
    client.cookies["django_language"] = "en"
    response = client.post(URL, {"symptoms": "palpitations and chest tightness"})
    assert response.context["result"].departments[0].department.code == "cardiology"
    assert "Suggested departments" in response.content.decode()


def test_unknown_chinese_words_get_advice_not_an_error(client, clinic) -> None:
    response = client.post(URL, {"symptoms": "今天天气很好"})
    assert response.status_code == 200
    assert "没有识别出您描述的症状" in response.content.decode()


def test_doctors_for_you_follow_a_members_history(client, clinic, member) -> None:
    visit(member, clinic["senior"], days_ago=14)
    visit(member, clinic["senior"], days_ago=60)
    client.force_login(member.user)

    response = client.get(reverse("triage:for_you"))

    assert response.status_code == 200
    suggestions = response.context["suggestions"]
    assert suggestions[0].doctor == clinic["senior"]
    assert suggestions[0].visits == 2 and suggestions[0].follow_up
    # his colleague has a session open soon; he has none
    assert [s.doctor for s in suggestions[1:]] == [clinic["arrhythmia"]]
    html = response.content.decode()
    assert "复诊提醒" in html
    assert "因为您曾在心血管内科就诊，该医生近期有号" in html
    assert "no-store" in response["Cache-Control"]


def test_a_visit_long_ago_is_no_follow_up_and_completed_visits_count_most(
    client, clinic, member
) -> None:
    gastro_doctor = clinic["gastro"].doctors.get()
    visit(member, clinic["senior"], days_ago=50)
    visit(member, gastro_doctor, days_ago=45, complete=False)  # checked in, never completed
    client.force_login(member.user)

    suggestions = client.get(reverse("triage:for_you")).context["suggestions"]

    # completed (3) > checked in only (2) > a colleague with slots (half the department's 3)
    expected = [clinic["senior"], gastro_doctor, clinic["arrhythmia"]]
    assert [s.doctor for s in suggestions] == expected
    assert not suggestions[0].follow_up


def test_doctors_for_you_of_another_member_are_their_own(
    client, clinic, member, other_member
) -> None:
    visit(member, clinic["senior"], days_ago=14)
    client.force_login(other_member.user)
    response = client.get(reverse("triage:for_you"))
    assert response.context["suggestions"] == []
    assert "首次就诊后" in response.content.decode()


def test_a_member_without_history_costs_one_query_of_history(
    client, clinic, member, django_assert_num_queries
) -> None:
    client.force_login(member.user)
    client.get(reverse("triage:for_you"))  # the session's first load
    with django_assert_num_queries(4):  # session, user, member, history
        response = client.get(reverse("triage:for_you"))
    assert response.context["suggestions"] == []


def test_for_you_with_history_is_a_fixed_number_of_queries(
    client, clinic, member, django_assert_num_queries
) -> None:
    visit(member, clinic["senior"], days_ago=14)
    visit(member, clinic["gastro"].doctors.get(), days_ago=20)
    client.force_login(member.user)
    client.get(reverse("triage:for_you"))
    with django_assert_num_queries(6):  # session, user, member, history, upcoming, doctors
        client.get(reverse("triage:for_you"))


def test_the_triage_page_shows_doctors_for_you_to_a_member(client, clinic, member) -> None:
    visit(member, clinic["senior"], days_ago=14)
    client.force_login(member.user)
    html = client.post(URL, {"symptoms": "胃疼"}).content.decode()
    assert 'id="for-you"' in html and "王建国" in html


def test_the_home_page_loads_doctors_for_you_for_members_only(client, clinic, member) -> None:
    assert reverse("triage:for_you") not in client.get("/").content.decode()
    assert reverse("triage:triage") in client.get("/").content.decode()
    client.force_login(member.user)
    assert reverse("triage:for_you") in client.get("/").content.decode()


def test_staff_get_no_suggestions(client, clinic, front_desk) -> None:
    client.force_login(front_desk)
    assert client.get(reverse("triage:for_you")).status_code == 204
