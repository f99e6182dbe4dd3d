"""Every staff-console URL for every role: anonymous visitors are sent to the staff login,
members and roles without the page's permission get 403, a doctor runs only their own queue."""

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


WHO = ["anonymous", "member", "front_desk", "doctor", "other_doctor", "admin"]
L = "login"
# (url name, argument, method, POST data) -> expected status for each of WHO.
TABLE = [
    ("staff:home", None, "get", {}, [L, 403, 200, 200, 200, 200]),
    ("staff:jobs", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:today", None, "get", {}, [L, 403, 200, 403, 403, 200]),
    ("staff:check_in", None, "get", {}, [L, 403, 200, 403, 403, 200]),
    ("staff:walk_in", None, "get", {}, [L, 403, 200, 403, 403, 200]),
    ("staff:members", None, "get", {}, [L, 403, 200, 403, 403, 200]),
    ("staff:member", "member", "get", {}, [L, 403, 200, 403, 403, 200]),
    (
        "staff:member_book",
        "member",
        "post",
        {"schedule": "open_schedule"},
        [L, 403, 302, 403, 403, 302],
    ),
    ("staff:appointment", "appointment", "get", {}, [L, 403, 200, 403, 403, 200]),
    ("staff:appointment_check_in", "appointment", "post", {}, [L, 403, 302, 403, 403, 302]),
    (
        "staff:appointment_cancel",
        "appointment",
        "post",
        {"reason": "x"},
        [L, 403, 302, 403, 403, 302],
    ),
    ("staff:queue", None, "get", {}, [L, 403, 403, 200, 200, 200]),
    ("staff:call_next", "schedule", "post", {}, [L, 403, 403, 302, 404, 302]),
    ("staff:appointment_complete", "appointment", "post", {}, [L, 403, 403, 302, 404, 302]),
    ("staff:appointment_no_show", "appointment", "post", {}, [L, 403, 403, 302, 404, 302]),
    ("staff:schedules", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:schedule_edit", "schedule", "get", {}, [L, 403, 403, 403, 403, 200]),
    (
        "staff:schedule_suspend",
        "schedule",
        "post",
        {"reason": "停诊"},
        [L, 403, 403, 403, 403, 302],
    ),
    ("staff:templates", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:doctors", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:doctor_new", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:doctor_edit", "doctor", "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:levels", None, "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:level_edit", "level", "get", {}, [L, 403, 403, 403, 403, 200]),
    ("staff:login", None, "get", {}, [200, 302, 302, 302, 302, 302]),
    ("staff:logout", None, "post", {}, [302] * 6),
    ("waiting_room", "department", "get", {}, [200] * 6),
]


def _cases():
    for name, arg, method, data, expected in TABLE:
        for who, status in zip(WHO, expected, strict=True):
            yield pytest.param(name, arg, method, data, who, status, id=f"{name}-{method}-{who}")


@pytest.mark.parametrize(("name", "arg", "method", "data", "who", "expected"), list(_cases()))
def test_each_role_gets_what_the_table_says(client, world, name, arg, method, data, who, expected):
    user = world["people"][who]
    if user is not None:
        client.force_login(user)
    url = reverse(name, args=[world[arg]] if arg else [])
    payload = {key: world.get(value, value) for key, value in data.items()}
    response = getattr(client, method)(url, payload)
    if expected == L:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("staff:login") + "?next=")
    else:
        assert response.status_code == expected, response.content[:300]


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
