"""The doctor's queue page and the waiting-room screens over HTTP: the buttons follow the
rules, 过号/重呼 from the page, the screen's JSON (masked names only), the screens' links."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from appointments import services
from appointments.models import Appointment
from tests.security.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(member, front_desk, doctor_user, clinic_admin):
    return build_world({}, member, doctor_user)


def queue_page(client, world) -> str:
    return client.get(
        reverse("staff:queue") + f"?schedule={world['today_schedule']}"
    ).content.decode()


def test_it_offers_no_show_only_after_the_recall(client, world, doctor_user) -> None:
    client.force_login(doctor_user)
    no_show = reverse("staff:appointment_no_show", args=[world["a_today"]])
    client.post(reverse("staff:call_next", args=[world["today_schedule"]]))
    page = queue_page(client, world)
    assert no_show not in page
    assert reverse("staff:appointment_recall", args=[world["a_today"]]) in page

    response = client.post(no_show, follow=True)  # posted anyway: refused, nothing changes
    assert any("2" in str(m) for m in response.context["messages"])
    assert Appointment.objects.get(pk=world["a_today"]).status == "checked_in"

    client.post(reverse("staff:appointment_recall", args=[world["a_today"]]))
    assert Appointment.objects.get(pk=world["a_today"]).call_count == 2
    assert no_show in queue_page(client, world)
    client.post(no_show)
    assert Appointment.objects.get(pk=world["a_today"]).status == "no_show"


def test_a_second_call_next_with_nobody_waiting_says_so(client, world, doctor_user) -> None:
    client.force_login(doctor_user)
    url = reverse("staff:call_next", args=[world["today_schedule"]])
    client.post(url)
    response = client.post(url, follow=True)
    assert [str(m) for m in response.context["messages"]][-1] == "暂无候诊患者。"
    assert Appointment.objects.get(pk=world["a_today"]).call_count == 1


def test_skip_from_the_page_puts_the_patient_back(client, world, doctor_user) -> None:
    client.force_login(doctor_user)
    client.post(reverse("staff:call_next", args=[world["today_schedule"]]))
    client.post(reverse("staff:appointment_skip", args=[world["a_today"]]))
    row = Appointment.objects.get(pk=world["a_today"])
    assert (row.called_at, row.skip_count, row.queue_rank) == (None, 1, 1)


def test_complete_with_a_note_from_the_page(client, world, doctor_user) -> None:
    client.force_login(doctor_user)
    client.post(reverse("staff:call_next", args=[world["today_schedule"]]))
    url = reverse("staff:appointment_complete", args=[world["a_today"]])
    response = client.post(url, {"note": "x" * 501}, follow=True)
    assert response.status_code == 200
    assert Appointment.objects.get(pk=world["a_today"]).status == "checked_in"
    client.post(url, {"note": "上呼吸道感染"})
    row = Appointment.objects.get(pk=world["a_today"])
    assert (row.status, row.visit_note) == ("completed", "上呼吸道感染")


def test_the_screen_json_has_masked_names_only(client, world, member, doctor_user) -> None:
    services.call_next(
        schedule=Appointment.objects.get(pk=world["a_today"]).schedule, by=doctor_user
    )
    for url in (
        reverse("waiting_room_state", args=[world["department"]]),
        reverse("waiting_clinic_state"),
    ):
        response = client.get(url)
        assert response["Content-Type"].startswith("application/json")
        assert response["Cache-Control"] == "no-store"
        body = response.content.decode()
        state = json.loads(body)
        (call,) = state["calls"]
        assert call["name"] == "张*"
        assert call["speech"].startswith(f"请 {call['number']}号 张* 到 ")
        assert member.name not in body
        assert member.phone[-4:] not in body


def test_the_screen_page_has_no_navigation_and_no_inline_script(client, world) -> None:
    page = client.get(reverse("waiting_room", args=[world["department"]])).content.decode()
    assert 'name="language"' not in page and "site-nav" not in page
    assert "<script>" not in page and "js/display.js" in page
    assert "onclick" not in page


def test_an_unknown_department_has_no_screen(client) -> None:
    assert client.get(reverse("waiting_room", args=["nope"])).status_code == 404
    assert client.get(reverse("waiting_room_state", args=["nope"])).status_code == 404


def test_the_console_lists_every_department_screen(client, world, front_desk) -> None:
    client.force_login(front_desk)
    page = client.get(reverse("staff:displays")).content.decode()
    assert reverse("waiting_room", args=[world["department"]]) in page
    assert reverse("waiting_clinic") in page


def test_the_screen_json_costs_two_queries(client, world, django_assert_num_queries) -> None:
    url = reverse("waiting_clinic_state")
    client.get(url)  # warm whatever the first request loads once
    with django_assert_num_queries(2):  # today's sessions, their checked-in patients
        assert client.get(url).status_code == 200
