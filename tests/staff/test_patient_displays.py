"""Issue 15: who the patient is (就诊人), everywhere an appointment is shown — the member's
ticket and list, the staff appointment page, today's board (found by the patient's ID number
too), the doctor's queue, the waiting-room screen (masked), messages — and the desk's side:
the member page lists the account's patients, the desk adds one, the member search finds the
account by a patient's ID number; the admin finds a patient by ID through the blind index."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from appointments import services
from appointments.models import Appointment, Schedule
from billing import notices
from members.models import Message, Patient
from tests.members.patient_ids import resident_id
from tests.security.world import matrix_world  # noqa: F401  (fixture: world)

pytestmark = pytest.mark.django_db


@pytest.fixture
def for_child(world) -> Appointment:
    """Member A's checked-in appointment today, made out for A's child 张小明."""
    Appointment.objects.filter(pk=world["a_today"]).update(patient_id=world["patient"])
    return Appointment.objects.select_related("patient", "member").get(pk=world["a_today"])


def test_the_ticket_and_the_list_name_the_child(client, member, for_child) -> None:
    client.force_login(member.user)
    ticket = client.get(reverse("billing:appointment_detail", args=[for_child.pk]))
    html = ticket.content.decode()
    assert 'class="ticket-patient"' in html
    assert "张小明" in html and "子女" in html
    listed = client.get(reverse("billing:appointments")).content.decode()
    assert "张小明（子女）" in listed or "张小明 (子女)" in listed


def test_an_appointment_from_before_patients_names_the_holder(client, member, world) -> None:
    Appointment.objects.filter(pk=world["a_future"]).update(patient=None)
    client.force_login(member.user)
    html = client.get(reverse("billing:appointment_detail", args=[world["a_future"]]))
    assert "张三" in html.content.decode().split('class="ticket-patient"')[1][:200]


def test_the_staff_appointment_page_names_the_child_and_the_account(
    client, front_desk, for_child
) -> None:
    client.force_login(front_desk)
    html = client.get(reverse("staff:appointment", args=[for_child.pk])).content.decode()
    h1 = html.split("<h1>")[1].split("</h1>")[0]
    assert "张小明" in h1 and "子女" in h1
    assert "张三" in html  # booked by the account holder


def test_the_board_finds_the_appointment_by_the_childs_id_number(
    client, front_desk, for_child
) -> None:
    client.force_login(front_desk)
    number = for_child.patient.id_number
    response = client.post(reverse("staff:today"), {"q": number}, follow=True)
    html = response.content.decode()
    assert number not in html and number not in response.redirect_chain[-1][0]
    assert 'class="board-patient"' in html and "张小明" in html
    other = client.post(reverse("staff:today"), {"q": resident_id()}, follow=True)
    assert "张小明" not in other.content.decode()


def test_the_board_and_the_member_search_find_a_patient_by_their_own_phone(
    client, front_desk, member, for_child
) -> None:
    child = for_child.patient
    child.phone = "+8613911112222"
    child.save()
    client.force_login(front_desk)

    board = client.post(reverse("staff:today"), {"q": "13911112222"}, follow=True)
    html = board.content.decode()
    assert "13911112222" not in html and "13911112222" not in board.redirect_chain[-1][0]
    assert 'class="board-patient"' in html and "张小明" in html

    found = client.post(reverse("staff:members"), {"q": "13911112222"}, follow=True)
    assert reverse("staff:member", args=[member.pk]) in found.content.decode()


def test_the_doctors_queue_and_the_screen_name_the_child(
    client, doctor_user, for_child, world
) -> None:
    services.call_next(schedule=for_child.schedule, by=doctor_user)
    client.force_login(doctor_user)
    queue = client.get(reverse("staff:queue"), {"schedule": for_child.schedule_id})
    assert "张小明" in queue.content.decode()
    client.logout()
    screen = client.get(reverse("waiting_room_state", args=[world["department"]])).json()
    (call,) = screen["calls"]
    assert call["name"] == "张*明"
    assert "张小明" not in str(screen)


def test_messages_name_the_child(for_child) -> None:
    notices.cancelled(for_child, Decimal("0"))
    message = Message.objects.filter(member=for_child.member).latest("pk")
    assert "张小明" in message.body and "子女" in message.body


def test_messages_for_the_holder_do_not_name_anyone(member, world) -> None:
    appointment = Appointment.objects.get(pk=world["a_future"])
    notices.cancelled(appointment, Decimal("0"))
    message = Message.objects.filter(member=member).latest("pk")
    assert "就诊人" not in message.body


def test_the_member_page_lists_the_patients_and_books_for_one(
    client, front_desk, member, world
) -> None:
    client.force_login(front_desk)
    session = Schedule.objects.select_related("doctor__department").get(pk=world["open_schedule"])
    page = client.get(
        reverse("staff:member", args=[member.pk]), {"department": session.doctor.department.code}
    )
    html = page.content.decode()
    assert 'class="card staff-patients"' in html and "张小明" in html
    assert reverse("staff:member_patient_add", args=[member.pk]) in html
    booking = html.split(f'name="schedule" value="{session.pk}"')[1].split("</form>")[0]
    assert f'<option value="{world["patient"]}">张小明' in booking, booking

    response = client.post(
        reverse("staff:member_book", args=[member.pk]),
        {"schedule": session.pk, "patient": world["patient"]},
    )
    assert response.status_code == 302
    booked = Appointment.objects.get(schedule=session, member=member)
    assert booked.patient_id == world["patient"]


def test_the_desk_cannot_book_another_accounts_patient(
    client, front_desk, member, other_member, world
) -> None:
    client.force_login(front_desk)
    response = client.post(
        reverse("staff:member_book", args=[other_member.pk]),
        {"schedule": world["open_schedule"], "patient": world["patient"]},
    )
    assert response.status_code == 302  # back to the member page, with the refusal
    assert not Appointment.objects.filter(member=other_member).exists()


def test_the_desk_adds_a_patient(client, front_desk, member) -> None:
    client.force_login(front_desk)
    number = resident_id()
    response = client.post(
        reverse("staff:member_patient_add", args=[member.pk]),
        {"name": "张建国", "relation": "parent", "id_type": "resident", "id_number": number},
    )
    assert response.status_code == 302
    parent = Patient.objects.get(member=member, name="张建国")
    assert parent.id_number == number
    again = client.post(
        reverse("staff:member_patient_add", args=[member.pk]),
        {"name": "张建国", "relation": "parent", "id_type": "resident", "id_number": number},
    )
    assert again.status_code == 409  # the same ID is the same patient: not twice


def test_the_doctor_may_not_add_a_patient(client, doctor_user, member) -> None:
    client.force_login(doctor_user)
    url = reverse("staff:member_patient_add", args=[member.pk])
    assert client.post(url, {"name": "x", "relation": "parent"}).status_code == 403
    assert not Patient.objects.filter(member=member, name="x").exists()


def test_the_member_search_finds_the_account_by_a_patients_id(
    client, front_desk, member, world
) -> None:
    client.force_login(front_desk)
    number = Patient.objects.get(pk=world["patient"]).id_number
    response = client.post(reverse("staff:members"), {"q": number}, follow=True)
    html = response.content.decode()
    assert reverse("staff:member", args=[member.pk]) in html
    assert number not in html


def test_the_admin_finds_a_patient_by_id_number_masked(client, world) -> None:
    superuser = world["people"]["superuser"]
    client.force_login(superuser)
    child = Patient.objects.get(pk=world["patient"])
    url = reverse("admin:members_patient_changelist")
    response = client.get(url, {"q": child.id_number})
    html = response.content.decode()
    assert response.status_code == 200
    # Shown masked (the search box and the links repeat only the admin's own query)
    assert f'<td class="field-masked_id_number">{child.masked_id_number}</td>' in html
    assert reverse("admin:members_patient_change", args=[child.pk]) in html
    detail = client.get(reverse("admin:members_patient_change", args=[child.pk]))
    assert detail.status_code == 200 and child.id_number not in detail.content.decode()
