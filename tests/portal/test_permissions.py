"""Member portal access beyond the permission matrix (tests/security): another member's
appointment stays untouched, member pages are never stored by browsers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.choices import Channel
from billing import services
from members.services import send_message
from tests.appointments.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(member, other_member, front_desk, doctor_user, clinic_admin):
    """Member A's appointment (unpaid, with its order) and message; a schedule to book."""
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("60.00")), channel=Channel.WEB
    )
    message = send_message(member=member, kind="booked", title="t", body="b")
    people = {
        "anonymous": None,
        "member": member.user,
        "other_member": other_member.user,
        "front_desk": front_desk,
        "doctor": doctor_user,
        "admin": clinic_admin,
    }
    return {
        "people": people,
        "appointment": appointment.pk,
        "message": message.pk,
        "schedule": ScheduleFactory().pk,
    }


def test_another_members_appointment_is_left_untouched(client, world, other_member) -> None:
    from appointments.models import Appointment

    client.force_login(other_member.user)
    client.post(reverse("billing:appointment_cancel", args=[world["appointment"]]))
    assert Appointment.objects.get(pk=world["appointment"]).status == "pending_payment"


def test_member_pages_are_not_stored_by_browsers(client, world, member) -> None:
    client.force_login(member.user)
    response = client.get(reverse("billing:appointment_detail", args=[world["appointment"]]))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
