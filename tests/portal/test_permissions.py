"""Member portal access beyond the permission matrix (tests/security): another member's
appointment stays untouched, member pages are never stored by browsers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.security.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(member, other_member, front_desk, doctor_user, clinic_admin):
    """The permission tests' world (tests/security/world.py): member A's unpaid appointment
    (with its order) is ``a_future``."""
    people = {
        "anonymous": None,
        "member": member.user,
        "other_member": other_member.user,
        "front_desk": front_desk,
        "doctor": doctor_user,
        "admin": clinic_admin,
    }
    return build_world(people, member, doctor_user)


def test_another_members_appointment_is_left_untouched(client, world, other_member) -> None:
    from appointments.models import Appointment

    client.force_login(other_member.user)
    client.post(reverse("billing:appointment_cancel", args=[world["a_future"]]))
    assert Appointment.objects.get(pk=world["a_future"]).status == "pending_payment"


def test_member_pages_are_not_stored_by_browsers(client, world, member) -> None:
    client.force_login(member.user)
    response = client.get(reverse("billing:appointment_detail", args=[world["a_future"]]))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
