"""The people and the objects the permission tests visit, built in one place: the permission
matrix and the checks that walk it (tests/security) use the ``world`` fixture here (import
``matrix_world``); the staff
console's and the portal's access tests build the same world for their own people."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Schedule
from appointments.services import check_in_appointment
from members.models import MemberLevel
from members.services import send_message
from tests.appointments import factories as appointments
from tests.appointments.factories import ScheduleFactory
from tests.billing import factories as billing
from tests.conftest import enable_totp, started_ago
from tests.members.factories import UserFactory
from tests.security.matrix import ROLES


def running_since() -> dt.datetime:
    """When a session of today that is under way began: half an hour ago, or at midnight if
    that was yesterday (a run just after midnight in Shanghai)."""
    return started_ago(dt.timedelta(minutes=30))


def session_under_way(doctor) -> Schedule:
    """``doctor``'s free session today: it began half an hour ago (at midnight, in the first
    half hour of the clinic's day: it must be today's) and runs until midnight."""
    start = running_since()
    return ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )


def build_world(people: dict, member, doctor_user) -> dict:
    """``people`` (role -> login, None for the anonymous visitor) and the objects they visit,
    by their primary keys: the doctor's session under way (``today_schedule``) with member A
    checked in (``a_today``), A's unpaid booking of a ¥60 session (``a_future``, its order's
    ``out_trade_no``), a message to A, and a free session anyone may book (``open_schedule``)."""
    today = session_under_way(doctor_user.doctor)
    a_today = appointments.book(member, today, now=today.starts_at - dt.timedelta(hours=1))
    check_in_appointment(appointment=a_today)
    a_future = billing.book(member, ScheduleFactory(fee=Decimal("60.00")))
    return {
        "people": people,
        "doctor": doctor_user.doctor.pk,
        "department": today.doctor.department.code,
        "today_schedule": today.pk,
        "open_schedule": ScheduleFactory(fee=0).pk,
        "a_today": a_today.pk,
        "a_future": a_future.pk,
        "out_trade_no": a_future.order.out_trade_no,
        "message": send_message(member=member, kind="booked", title="t", body="b").pk,
        "member_a": member.pk,
        "level": MemberLevel.objects.first().pk,
    }


def finished_export(requester, settings, folder) -> str:
    """A finished export of ``requester`` (a small CSV, in ``folder``): its token."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from reports.models import Export

    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    token = secrets.token_urlsafe(32)
    name = storages["exports"].save(f"{token}/bookings.csv", ContentFile(b"\xef\xbb\xbfa\r\n"))
    Export.objects.create(
        token=token,
        requester=requester,
        dashboard="bookings",
        kind="tables",
        format="csv",
        fingerprint="matrix",
        masked=not requester.has_perm("members.view_personal_data"),
        status="done",
        progress=100,
        file=name,
        file_name="bookings.csv",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return token


@pytest.fixture(name="world")
def matrix_world(member, other_member, front_desk, doctor_user, clinic_admin, settings, tmp_path):
    """``world``, the permission matrix's: its ROLES, and every object a route of it takes."""
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    enable_totp(superuser)
    logins = [None, member.user, other_member.user, front_desk, doctor_user, clinic_admin]
    people = dict(zip(ROLES, [*logins, superuser], strict=True))
    return build_world(people, member, doctor_user) | {
        "export": finished_export(clinic_admin, settings, tmp_path / "exports"),
        "front_desk_user": front_desk.pk,
        "gateway": "sandbox",
        "done": "done",
        "key": "abc",
        "uid_key": ("1", "abc"),
    }


def route_url(name: str, arg: str | None, world: dict) -> str:
    """The address of route ``name``, with the world's object ``arg`` as its argument."""
    if name == "admin:*":
        return reverse(arg)
    if arg is None:
        return reverse(name)
    value = world[arg]
    return reverse(name, args=list(value) if isinstance(value, tuple) else [value])


def client_as(world: dict, role: str) -> Client:
    """A new browser, logged in as ``role``'s person of the world (none for anonymous)."""
    client = Client()
    if world["people"][role] is not None:
        client.force_login(world["people"][role])
    return client
