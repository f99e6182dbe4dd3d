"""Every member-portal URL for every kind of visitor.

Anonymous visitors are sent to log in; a member reaches only their own appointments, orders and
messages (anyone else's id is a 404, so ids tell nothing); staff logins without a member record
are told the pages are for members (403).
"""

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


# (url name, argument key, method) -> expected status for
# anonymous, owner, other member, front desk, doctor, admin.
# "login" = redirect to the login page; 302 = the page's own redirect.
OBJECT_PAGES = [
    ("billing:appointment_detail", "appointment", "get", ["login", 200, 404, 403, 403, 403]),
    ("billing:appointment_pay", "appointment", "get", ["login", 302, 404, 403, 403, 403]),
    ("billing:appointment_cancel", "appointment", "get", ["login", 200, 404, 403, 403, 403]),
    ("billing:appointment_cancel", "appointment", "post", ["login", 302, 404, 403, 403, 403]),
    ("billing:appointment_calendar", "appointment", "get", ["login", 200, 404, 403, 403, 403]),
    ("members:message_detail", "message", "get", ["login", 200, 404, 403, 403, 403]),
]
MEMBER_PAGES = [
    ("billing:appointments", None, "get", ["login", 200, 200, 403, 403, 403]),
    ("billing:book", "schedule", "get", ["login", 200, 200, 403, 403, 403]),
    ("billing:book", "schedule", "post", ["login", 302, 302, 403, 403, 403]),
    ("members:membership", None, "get", ["login", 200, 200, 403, 403, 403]),
    ("members:profile", None, "get", ["login", 200, 200, 403, 403, 403]),
    ("members:messages", None, "get", ["login", 200, 200, 403, 403, 403]),
    ("members:messages_read_all", None, "post", ["login", 302, 302, 403, 403, 403]),
]
PUBLIC_PAGES = [
    ("appointments:home", None, "get", [200] * 6),
    ("members:password_reset", None, "get", [200] * 6),
    ("account_login", None, "get", [200, 302, 302, 302, 302, 302]),
    ("account_signup", None, "get", [200, 302, 302, 302, 302, 302]),
]
WHO = ["anonymous", "member", "other_member", "front_desk", "doctor", "admin"]


def _cases(table):
    for name, arg, method, expected in table:
        for who, status in zip(WHO, expected, strict=True):
            yield pytest.param(name, arg, method, who, status, id=f"{name}-{method}-{who}")


@pytest.mark.parametrize(
    ("name", "arg", "method", "who", "expected"),
    [*_cases(OBJECT_PAGES), *_cases(MEMBER_PAGES), *_cases(PUBLIC_PAGES)],
)
def test_it_answers_each_visitor_as_the_table_says(
    client, world, name, arg, method, who, expected
) -> None:
    user = world["people"][who]
    if user is not None:
        client.force_login(user)
    url = reverse(name, args=[world[arg]] if arg else [])
    response = getattr(client, method)(url)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    else:
        assert response.status_code == expected, response.content[:300]


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
