"""Staff console access beyond the permission matrix (tests/security): a doctor runs only their
own queue, the front desk cannot edit tiers, the waiting room shows no personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import book_appointment, check_in_appointment
from medbook.roles import DOCTOR
from members.models import MemberLevel
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(member, front_desk, doctor_user, clinic_admin):
    start = timezone.localtime() - dt.timedelta(minutes=30)
    schedule = ScheduleFactory(
        doctor=doctor_user.doctor,
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )
    appointment = book_appointment(
        member=member,
        schedule=schedule,
        channel="web",
        now=schedule.starts_at - dt.timedelta(hours=1),
    )
    check_in_appointment(appointment=appointment)
    other_doctor = staff_user("otherdoctor", DOCTOR)
    DoctorFactory(user=other_doctor, name="李医生")
    return {
        "people": {
            "anonymous": None,
            "member": member.user,
            "front_desk": front_desk,
            "doctor": doctor_user,
            "other_doctor": other_doctor,
            "admin": clinic_admin,
        },
        "schedule": schedule.pk,
        "appointment": appointment.pk,
        "member": member.pk,
        "level": MemberLevel.objects.first().pk,
        "doctor": doctor_user.doctor.pk,
        "department": schedule.doctor.department.code,
        "open_schedule": ScheduleFactory(fee=0).pk,
    }


@pytest.mark.parametrize(
    ("name", "arg"),
    [
        ("staff:call_next", "schedule"),
        ("staff:appointment_complete", "appointment"),
        ("staff:appointment_no_show", "appointment"),
    ],
)
def test_another_doctor_gets_a_404_and_changes_nothing(client, world, name, arg) -> None:
    client.force_login(world["people"]["other_doctor"])
    assert client.post(reverse(name, args=[world[arg]])).status_code == 404
    appointment = Appointment.objects.get(pk=world["appointment"])
    assert (appointment.status, appointment.called_at) == ("checked_in", None)


def test_a_doctor_cannot_open_another_doctors_session(client, world) -> None:
    client.force_login(world["people"]["other_doctor"])
    response = client.get(reverse("staff:queue") + f"?schedule={world['schedule']}")
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
    client.post(reverse("staff:call_next", args=[world["schedule"]]))
    client.logout()
    page = client.get(reverse("waiting_room", args=[world["department"]])).content.decode()
    number = Appointment.objects.get(pk=world["appointment"]).queue_number
    assert f'data-schedule="{world["schedule"]}">{number}</strong>' in page
    assert member.name not in page and member.phone[3:] not in page
