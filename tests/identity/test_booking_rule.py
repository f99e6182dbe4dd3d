"""实名制: with the clinic's setting on, only a verified patient is booked (on the confirm page,
through the API's service, by the desk); a walk-in is exempt; off, nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments.choices import Channel
from appointments.exceptions import PatientNotVerified
from appointments.models import Appointment
from appointments.services import book_appointment
from identity import services
from medbook import clinic
from members.patients import add_patient
from tests.appointments.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_names_required(clinic_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        clinic.update_clinic_profile(
            data={
                "name": "",
                "address": "",
                "phone": "",
                "hours": "",
                "booking_requires_verified_patient": True,
            },
            by=clinic_admin,
        )


@pytest.fixture
def parent(member):
    return add_patient(
        member=member, name="张伟", relation="parent", id_number="310104199003051239"
    )


def test_an_unverified_patient_is_not_booked(member, parent, real_names_required) -> None:
    schedule = ScheduleFactory(fee=0)
    with pytest.raises(PatientNotVerified):
        book_appointment(member=member, schedule=schedule, channel=Channel.WEB, patient=parent)
    schedule.refresh_from_db()
    assert schedule.booked == 0 and not Appointment.objects.exists()


def test_once_verified_the_patient_is_booked(member, parent, real_names_required) -> None:
    services.verify_patient(patient=parent, by=member.user)
    parent.refresh_from_db()
    appointment = book_appointment(
        member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB, patient=parent
    )
    assert appointment.patient == parent


def test_with_the_setting_off_nothing_changes(member, parent) -> None:
    appointment = book_appointment(
        member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB, patient=parent
    )
    assert appointment.patient == parent


def test_a_walk_in_is_booked_at_the_desk(member, parent, front_desk, real_names_required):
    appointment = book_appointment(
        member=member,
        schedule=ScheduleFactory(fee=0),
        channel=Channel.WALK_IN,
        patient=parent,
        by=front_desk,
        walk_in=True,
    )
    assert appointment.patient == parent


def test_the_confirm_page_says_why(client, member, parent, real_names_required) -> None:
    client.force_login(member.user)
    schedule = ScheduleFactory()
    response = client.post(reverse("billing:book", args=[schedule.pk]), {"patient": parent.pk})
    assert response.status_code == 409
    page = response.content.decode()
    assert "仅已实名认证的就诊人可以预约" in page
    assert reverse("identity:verify_patient", args=[parent.pk]) in page  # where to do it
    assert not Appointment.objects.exists()
