"""Staff console access beyond the permission matrix (tests/security): a doctor runs only their
own queue, the front desk cannot edit tiers, the waiting room shows no personal data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments.models import Appointment
from medbook.roles import DOCTOR
from members.models import MemberLevel
from tests.appointments.factories import DoctorFactory
from tests.conftest import staff_user
from tests.security.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(member, front_desk, doctor_user, clinic_admin):
    """The permission tests' world (tests/security/world.py) with a second doctor."""
    other_doctor = staff_user("otherdoctor", DOCTOR)
    DoctorFactory(user=other_doctor, name="李医生")
    people = {
        "anonymous": None,
        "member": member.user,
        "front_desk": front_desk,
        "doctor": doctor_user,
        "other_doctor": other_doctor,
        "admin": clinic_admin,
    }
    return build_world(people, member, doctor_user)


@pytest.mark.parametrize(
    ("name", "arg"),
    [
        ("staff:call_next", "today_schedule"),
        ("staff:appointment_complete", "a_today"),
        ("staff:appointment_no_show", "a_today"),
    ],
)
def test_another_doctor_gets_a_404_and_changes_nothing(client, world, name, arg) -> None:
    client.force_login(world["people"]["other_doctor"])
    assert client.post(reverse(name, args=[world[arg]])).status_code == 404
    appointment = Appointment.objects.get(pk=world["a_today"])
    assert (appointment.status, appointment.called_at) == ("checked_in", None)


def test_a_doctor_cannot_open_another_doctors_session(client, world) -> None:
    client.force_login(world["people"]["other_doctor"])
    response = client.get(reverse("staff:queue") + f"?schedule={world['today_schedule']}")
    assert response.status_code == 404
    client.force_login(world["people"]["doctor"])
    page = client.get(reverse("staff:queue")).content.decode()
    assert "张三" in page  # their own checked-in patient


def test_front_desk_cannot_edit_tiers(client, world) -> None:
    client.force_login(world["people"]["front_desk"])
    level = MemberLevel.objects.get(pk=world["level"])
    response = client.post(
        reverse("staff:level_edit", args=[level.pk]),
        {
            "name": "x",
            "min_points": 0,
            "booking_lead_hours": 99,
            "discount_rate": "0.10",
            "max_active_appointments": 50,
            "points_multiplier": "9",
        },
    )
    assert response.status_code == 403
    level.refresh_from_db()
    assert level.booking_lead_hours == 0


def test_the_waiting_room_shows_no_personal_data(client, world, member) -> None:
    client.force_login(world["people"]["doctor"])
    client.post(reverse("staff:call_next", args=[world["today_schedule"]]))
    client.logout()
    page = client.get(reverse("waiting_room", args=[world["department"]])).content.decode()
    number = Appointment.objects.get(pk=world["a_today"]).queue_number
    assert f'<span class="banner-number">{number}<small>' in page
    assert "张*" in page  # the name masked
    assert member.name not in page and member.phone[3:] not in page
