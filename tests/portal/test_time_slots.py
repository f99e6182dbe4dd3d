"""The member's booking page for a session split into time slots (分时段): the slots with their
times and free places, the full ones disabled, the earliest free one chosen; the ticket shows
the slot. A bad slot books nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Schedule
from billing.gateways import sandbox
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session() -> Schedule:
    """08:00–10:00 in 30-minute slots of two places; the first slot taken."""
    schedule = ScheduleFactory(
        start_time=dt.time(8, 0), end_time=dt.time(10, 0), slot_minutes=30, capacity=8
    )
    book(MemberFactory(), schedule)
    book(MemberFactory(), schedule)
    return schedule


@pytest.fixture
def signed_in(client, member):
    client.force_login(member.user)
    return member


def radios(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="slot"[^>]*>', page)


def test_the_page_lists_the_slots_full_ones_disabled_earliest_free_chosen(
    client, signed_in, session
) -> None:
    page = client.get(reverse("billing:book", args=[session.pk])).content.decode()

    assert "选择时段" in page
    assert "08:00–08:30" in page and "09:30–10:00" in page
    inputs = radios(page)
    assert len(inputs) == 4
    assert "disabled" in inputs[0] and "checked" not in inputs[0]
    assert 'value="1"' in inputs[1] and "checked" in inputs[1]
    assert "剩余2个" in page and "已约满" in page


def test_a_session_without_slots_shows_no_choice(client, signed_in) -> None:
    page = client.get(reverse("billing:book", args=[ScheduleFactory().pk])).content.decode()
    assert radios(page) == []


def test_booking_a_chosen_slot_puts_its_time_on_the_ticket(client, signed_in, session) -> None:
    response = client.post(reverse("billing:book", args=[session.pk]), {"slot": "3"})

    appointment = Appointment.objects.get(member=signed_in)
    assert response.status_code == 302
    assert appointment.queue_number == 7 and appointment.estimated_time == dt.time(9, 30)
    ticket = client.get(reverse("billing:appointment_detail", args=[appointment.pk]))
    assert "09:30–10:00" in ticket.content.decode()
    # The cashier names the slot, not the whole session.
    cashier = client.get(sandbox.checkout_url(appointment.order)).content.decode()
    assert "09:30–10:00" in cashier and "08:00–10:00" not in cashier


def test_a_full_slot_is_refused_and_the_page_offers_the_others(client, signed_in, session) -> None:
    response = client.post(reverse("billing:book", args=[session.pk]), {"slot": "0"})

    page = response.content.decode()
    assert response.status_code == 409
    assert "该时段已约满" in page
    assert len(radios(page)) == 4  # the choice is still there
    assert not Appointment.objects.filter(member=signed_in).exists()
    session.refresh_from_db()
    assert session.booked == 2


@pytest.mark.parametrize("slot", ["abc", "-1", "9", "1.5", "99999"])
def test_a_bad_slot_is_a_400_and_books_nothing(client, signed_in, session, slot) -> None:
    response = client.post(reverse("billing:book", args=[session.pk]), {"slot": slot})

    assert response.status_code == 400
    assert "请选择本次出诊的一个时段" in response.content.decode()
    assert not Appointment.objects.filter(member=signed_in).exists()
    session.refresh_from_db()
    assert session.booked == 2


def test_the_doctors_page_marks_sessions_with_time_slots(client, session) -> None:
    page = client.get(reverse("appointments:doctor_detail", args=[session.doctor_id]))
    assert "分时段" in page.content.decode()


def test_the_api_books_a_chosen_slot(client, member, session) -> None:
    token = pair_for(member.user).access
    response = call(
        client, "post", "appointments", {"schedule": session.pk, "slot": 2}, token=token
    )

    assert response.status_code == 201
    assert response.json()["queue_number"] == 5
    assert response.json()["estimated_time"].startswith("09:00")


def test_the_api_refuses_a_full_slot(client, member, session) -> None:
    token = pair_for(member.user).access
    response = call(
        client, "post", "appointments", {"schedule": session.pk, "slot": 0}, token=token
    )
    assert error(response) == (409, "slot_full")
    assert (
        response.json()["error"]["message"] == "This time slot is full. Please choose another one."
    )


@pytest.mark.parametrize(
    ("slot", "code"), [("x", "invalid"), (1.5, "invalid"), (-1, "invalid"), (4, "no_such_slot")]
)
def test_the_api_refuses_a_bad_slot_with_a_400_and_writes_nothing(
    client, member, session, slot, code
) -> None:
    token = pair_for(member.user).access
    response = call(
        client, "post", "appointments", {"schedule": session.pk, "slot": slot}, token=token
    )
    assert error(response) == (400, code)
    assert "slot" in response.json()["error"]["fields"]
    assert not Appointment.objects.filter(member=member).exists()


def test_the_api_lists_a_sessions_slots_for_the_app_to_choose_from(client, session) -> None:
    plain = ScheduleFactory(doctor=session.doctor, date=session.date + dt.timedelta(days=1))
    response = call(client, "get", "doctor_sessions", args=[session.doctor_id])

    rows = {row["id"]: row for row in response.json()}
    assert rows[session.pk]["slot_minutes"] == 30
    assert rows[session.pk]["slots"][0] == {
        "index": 0,
        "start": "08:00",
        "end": "08:30",
        "places": 2,
    }
    assert len(rows[session.pk]["slots"]) == 4
    assert rows[plain.pk]["slot_minutes"] == 0 and rows[plain.pk]["slots"] == []


def test_a_slot_held_by_an_unpaid_order_past_its_hold_is_freed_for_the_chooser(
    client, signed_in
) -> None:
    schedule = ScheduleFactory(
        start_time=dt.time(8, 0), end_time=dt.time(10, 0), slot_minutes=30, capacity=8
    )
    half_an_hour_ago = timezone.now() - dt.timedelta(minutes=30)
    lapsed = book(MemberFactory(), schedule, now=half_an_hour_ago)  # the expiry job never ran
    book(MemberFactory(), schedule)

    response = client.post(reverse("billing:book", args=[schedule.pk]), {"slot": "0"})

    assert response.status_code == 302
    mine = Appointment.objects.get(member=signed_in)
    assert mine.queue_number == lapsed.queue_number == 1
    lapsed.refresh_from_db()
    assert lapsed.status == "cancelled"
