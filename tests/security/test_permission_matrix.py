"""Every route of MedBook for every role, from one table (tests/security/matrix.py); a route
without a row fails the build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from appointments.services import book_appointment, check_in_appointment
from billing import services
from members.models import MemberLevel
from members.services import send_message
from tests.appointments.factories import ScheduleFactory
from tests.conftest import enable_totp
from tests.members.factories import UserFactory
from tests.security.matrix import MATRIX, ROLES, A, L, S, routes_without_a_row

pytestmark = pytest.mark.django_db

LOGIN_PAGES = {L: "account_login", S: "staff:login", A: "admin:login"}


def test_every_route_has_a_row() -> None:
    assert routes_without_a_row() == []


@override_settings(ROOT_URLCONF="tests.security.urls_with_a_new_route")
def test_a_route_added_without_a_row_fails() -> None:
    assert routes_without_a_row() == ["brand_new_report"]


@pytest.fixture
def world(member, other_member, front_desk, doctor_user, clinic_admin):
    start = timezone.localtime() - dt.timedelta(minutes=30)
    today_schedule = ScheduleFactory(
        doctor=doctor_user.doctor,
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )
    a_today = book_appointment(
        member=member,
        schedule=today_schedule,
        channel="web",
        now=today_schedule.starts_at - dt.timedelta(hours=1),
    )
    check_in_appointment(appointment=a_today)
    a_future = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("60.00")), channel="web"
    )
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    enable_totp(superuser)
    return {
        "people": dict(
            zip(
                ROLES,
                [
                    None,
                    member.user,
                    other_member.user,
                    front_desk,
                    doctor_user,
                    clinic_admin,
                    superuser,
                ],
                strict=True,
            )
        ),
        "doctor": doctor_user.doctor.pk,
        "department": today_schedule.doctor.department.code,
        "today_schedule": today_schedule.pk,
        "open_schedule": ScheduleFactory(fee=0).pk,
        "a_today": a_today.pk,
        "a_future": a_future.pk,
        "message": send_message(member=member, kind="booked", title="t", body="b").pk,
        "member_a": member.pk,
        "front_desk_user": front_desk.pk,
        "level": MemberLevel.objects.first().pk,
        "gateway": "sandbox",
        "out_trade_no": a_future.order.out_trade_no,
        "done": "done",
        "key": "abc",
        "uid_key": ("1", "abc"),
    }


def _cases():
    for name, rows in MATRIX.items():
        for method, arg, data, expected in rows:
            for role, status in zip(ROLES, expected, strict=True):
                yield pytest.param(
                    name, method, arg, data, role, status, id=f"{name}-{method}-{arg}-{role}"
                )


def _url(name: str, arg: str | None, world: dict) -> str:
    if name == "admin:*":
        return reverse(arg)
    if arg is None:
        return reverse(name)
    value = world[arg]
    return reverse(name, args=list(value) if isinstance(value, tuple) else [value])


@pytest.mark.parametrize(("name", "method", "arg", "data", "role", "expected"), list(_cases()))
def test_each_role_gets_what_the_matrix_says(
    client, world, name, method, arg, data, role, expected
) -> None:
    user = world["people"][role]
    if user is not None:
        client.force_login(user)
    payload = {key: world.get(value, value) for key, value in data.items()}
    response = getattr(client, method)(_url(name, arg, world), payload)
    if expected in LOGIN_PAGES:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse(LOGIN_PAGES[expected]) + "?next=")
    else:
        assert response.status_code == expected, response.content[:300]
