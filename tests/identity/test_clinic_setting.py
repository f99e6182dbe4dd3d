"""The clinic's 实名制 setting: off by default, switched by clinic admins on the clinic page
(logged), read from the cache on the booking path."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from medbook import clinic
from medbook.models import OperationLog

pytestmark = pytest.mark.django_db

FORM = {"name": "示例诊所", "address": "", "phone": "", "hours": ""}


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_is_off_by_default() -> None:
    assert clinic.booking_requires_verified_patient() is False


def test_a_clinic_admin_switches_it_on_and_off(
    clinic_admin, django_capture_on_commit_callbacks
) -> None:
    client = admin_client(clinic_admin)
    page = client.get(reverse("staff:clinic"))  # reads (and caches) the profile
    assert "booking_requires_verified_patient" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:clinic"), {**FORM, "booking_requires_verified_patient": "on"})
    assert clinic.booking_requires_verified_patient() is True
    logged = OperationLog.objects.filter(action="clinic.update").latest("pk")
    assert logged.detail["booking_requires_verified_patient"] is True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff:clinic"), FORM)  # an unticked box
    assert clinic.booking_requires_verified_patient() is False


def test_it_is_read_from_the_cache(clinic_admin, django_assert_num_queries) -> None:
    clinic.update_clinic_profile(
        data={**FORM, "booking_requires_verified_patient": True}, by=clinic_admin
    )
    clinic.booking_requires_verified_patient()
    with django_assert_num_queries(0):
        assert clinic.booking_requires_verified_patient() is True


def test_the_front_desk_cannot_change_it(front_desk) -> None:
    answer = admin_client(front_desk).post(
        reverse("staff:clinic"), {**FORM, "booking_requires_verified_patient": "on"}
    )
    assert answer.status_code == 403
    assert clinic.booking_requires_verified_patient() is False
