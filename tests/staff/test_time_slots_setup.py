"""Clinic admins split sessions and weekly templates into time slots (分时段) in the staff
console; only they may. A session's edit that leaves the field out keeps it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.choices import ScheduleStatus
from appointments.models import ScheduleTemplate
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import enable_totp

pytestmark = pytest.mark.django_db


def edit(schedule, **more) -> dict:
    return {
        "start_time": "08:00",
        "end_time": "11:30",
        "capacity": 12,
        "minutes_per_visit": 15,
        "room": "",
        "fee": "50.00",
        "release_at": timezone.localtime(schedule.release_at).strftime("%Y-%m-%dT%H:%M"),
        "status": ScheduleStatus.PUBLISHED,
        **more,
    }


def test_a_clinic_admin_splits_a_session_into_slots(client, clinic_admin) -> None:
    schedule = ScheduleFactory(capacity=12)
    client.force_login(clinic_admin)

    page = client.get(reverse("staff:schedule_edit", args=[schedule.pk])).content.decode()
    assert 'name="slot_minutes"' in page
    response = client.post(
        reverse("staff:schedule_edit", args=[schedule.pk]), edit(schedule, slot_minutes=30)
    )

    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 30 and schedule.is_split


def test_leaving_the_field_out_keeps_the_slots_and_empty_means_not_split(
    client, clinic_admin
) -> None:
    schedule = ScheduleFactory(capacity=12, slot_minutes=30)
    client.force_login(clinic_admin)
    url = reverse("staff:schedule_edit", args=[schedule.pk])

    client.post(url, edit(schedule))
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 30
    client.post(url, edit(schedule, slot_minutes=""))
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 0


@pytest.mark.parametrize("bad", ["-5", "abc", "241"])
def test_a_bad_slot_length_is_refused_and_changes_nothing(client, clinic_admin, bad) -> None:
    schedule = ScheduleFactory(capacity=10)
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:schedule_edit", args=[schedule.pk]), edit(schedule, slot_minutes=bad)
    )

    assert response.status_code in (200, 400)
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 0 and schedule.capacity == 10


def test_a_weekly_template_with_slots_is_added(client, clinic_admin) -> None:
    doctor = DoctorFactory()
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:templates"),
        {
            "action": "template",
            "doctor": doctor.pk,
            "weekday": 1,
            "session": "morning",
            "start_time": "08:00",
            "end_time": "11:00",
            "capacity": 12,
            "minutes_per_visit": 15,
            "slot_minutes": 30,
            "room": "101",
            "room_en": "",
            "fee": "",
        },
    )

    assert response.status_code == 302
    assert ScheduleTemplate.objects.get(doctor=doctor).slot_minutes == 30


@pytest.mark.parametrize("who", ["member", "front_desk", "doctor_user"])
def test_only_clinic_admins_may_change_the_slots(client, request, who) -> None:
    schedule = ScheduleFactory(capacity=12)
    user = request.getfixturevalue(who)
    client.force_login(getattr(user, "user", user))

    response = client.post(
        reverse("staff:schedule_edit", args=[schedule.pk]), edit(schedule, slot_minutes=30)
    )

    assert response.status_code in (302, 403, 404)
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 0


def test_anonymous_visitors_cannot_change_the_slots(client) -> None:
    schedule = ScheduleFactory(capacity=12)
    response = client.post(
        reverse("staff:schedule_edit", args=[schedule.pk]), edit(schedule, slot_minutes=30)
    )
    assert response.status_code in (302, 403)
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 0
    assert dt.time(8, 0) == schedule.start_time


def test_django_admin_edits_a_sessions_slots(client, django_user_model) -> None:
    schedule = ScheduleFactory(capacity=10)
    admin_user = django_user_model.objects.create_superuser("root-slots", "r@example.com", "x")
    enable_totp(admin_user)
    client.force_login(admin_user)
    url = reverse("admin:appointments_schedule_change", args=[schedule.pk])
    released = timezone.localtime(schedule.release_at)
    form = {
        "doctor": schedule.doctor_id,
        "date": schedule.date.isoformat(),
        "session": schedule.session,
        "start_time": "08:00",
        "end_time": "11:30",
        "capacity": 10,
        "minutes_per_visit": 15,
        "slot_minutes": 30,
        "room": "",
        "fee": "50.00",
        "status": "published",
        "release_at_0": released.date().isoformat(),
        "release_at_1": released.strftime("%H:%M:%S"),
        "suspended_reason": "",
    }

    assert 'name="slot_minutes"' in client.get(url).content.decode()
    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    schedule.refresh_from_db()
    assert schedule.slot_minutes == 30
