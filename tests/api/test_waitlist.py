"""The waitlist API (候补): joining a sold-out session's waitlist (or any session of a doctor),
the member's places with their position and the slot held for them, leaving, and accepting an
offer — which books the held slot, paid like any booking. Another member's place is a 404;
refused input writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus, WaitlistStatus
from appointments.models import Appointment, Schedule, WaitlistEntry
from billing import services
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.billing.test_waitlist import assert_offers_exact
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(levels):
    """A one-slot session with a fee, held by a third member."""
    schedule = ScheduleFactory(capacity=1, fee=Decimal("40.00"))
    holder = book(MemberFactory(level=levels["普通"]), schedule)
    return Schedule.objects.get(pk=schedule.pk), holder


def _token(member) -> str:
    return pair_for(member.user).access


def _join(client, member, **body):
    return call(client, "post", "waitlist", body, token=_token(member))


def _free(holder) -> None:
    services.cancel_booking(appointment=holder, by=holder.member.user, reason="plans changed")


def test_it_joins_a_sold_out_session_and_lists_the_place(client, member, full) -> None:
    schedule, _holder = full
    response = _join(client, member, schedule=schedule.pk)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "waiting" and body["position"] == 1
    assert body["session"]["id"] == schedule.pk and body["any_session"] is False
    assert body["doctor"]["id"] == schedule.doctor_id
    assert body["offer"] is None and body["can_accept"] is False
    assert "no-store" in response["Cache-Control"]
    listed = call(client, "get", "waitlist", token=_token(member)).json()
    assert [row["id"] for row in listed["open"]] == [body["id"]]
    assert listed["closed"] == []


def test_the_second_member_waits_behind_the_first(client, member, other_member, full) -> None:
    schedule, _holder = full
    _join(client, member, schedule=schedule.pk)
    assert _join(client, other_member, schedule=schedule.pk).json()["position"] == 2


def test_it_joins_any_session_of_a_doctor_between_two_days(client, member, full) -> None:
    schedule, _holder = full
    response = _join(
        client,
        member,
        doctor=schedule.doctor_id,
        date_from=schedule.date.isoformat(),
        date_to=(schedule.date + dt.timedelta(days=2)).isoformat(),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["any_session"] is True and body["session"] is None
    assert (body["date_from"], body["date_to"]) == (
        schedule.date.isoformat(),
        (schedule.date + dt.timedelta(days=2)).isoformat(),
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"schedule": 1, "doctor": 1}, 400, "invalid"),
        ({"schedule": "x"}, 400, "invalid"),
        ({"doctor": "DOCTOR"}, 400, "invalid"),  # no first day
        ({"schedule": "SESSION", "date_from": "2026-01-01"}, 400, "invalid"),
        ({"doctor": "DOCTOR", "date_from": "2001-01-01"}, 400, "waitlist_days"),
        ({"schedule": 2**31 - 1}, 404, "not_found"),
        ({"doctor": 2**31 - 1, "date_from": "TODAY"}, 404, "not_found"),
        ({"schedule": "SESSION", "patient": 2**31 - 1}, 400, "invalid"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(client, member, full, body, status, code):
    schedule, _holder = full
    values = {
        "SESSION": schedule.pk,
        "DOCTOR": schedule.doctor_id,
        "TODAY": timezone.localdate().isoformat(),
    }
    body = {key: values.get(value, value) for key, value in body.items()}
    response = _join(client, member, **body)

    assert error(response) == (status, code)
    assert response.json()["error"]["message"]
    assert not WaitlistEntry.objects.exists()


def test_a_session_with_free_slots_is_booked_not_waited_for(client, member) -> None:
    response = _join(client, member, schedule=ScheduleFactory().pk)
    assert error(response) == (409, "slots_free")
    assert not WaitlistEntry.objects.exists()


def test_joining_twice_keeps_one_place(client, member, full) -> None:
    schedule, _holder = full
    _join(client, member, schedule=schedule.pk)
    assert error(_join(client, member, schedule=schedule.pk)) == (409, "already_waiting")
    assert WaitlistEntry.objects.count() == 1


def test_the_message_follows_the_language(client, member) -> None:
    schedule = ScheduleFactory()
    english = call(client, "post", "waitlist", {"schedule": schedule.pk}, token=_token(member))
    chinese = call(
        client,
        "post",
        "waitlist",
        {"schedule": schedule.pk},
        token=_token(member),
        language="zh-hans",
    )
    assert english.json()["error"]["message"] != chinese.json()["error"]["message"]
    assert english["Content-Language"] == "en" and chinese["Content-Language"] == "zh-hans"


def test_a_freed_slot_is_offered_and_accepting_books_it_to_pay(client, member, full) -> None:
    schedule, holder = full
    entry_id = _join(client, member, schedule=schedule.pk).json()["id"]
    _free(holder)

    listed = call(client, "get", "waitlist", token=_token(member)).json()["open"][0]
    assert listed["status"] == "offered" and listed["can_accept"] is True
    assert listed["position"] is None
    assert listed["offer"]["session"]["id"] == schedule.pk
    held = WaitlistEntry.objects.get(pk=entry_id).offer_expires_at
    assert dt.datetime.fromisoformat(listed["offer"]["expires_at"]) == held

    response = call(client, "post", "waitlist_accept", token=_token(member), args=[entry_id])

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == AppointmentStatus.PENDING_PAYMENT
    assert body["channel"] == "api" and body["can_pay"] is True
    assert response["Location"] == f"/api/v1/appointments/{body['id']}/"
    assert WaitlistEntry.objects.get(pk=entry_id).status == WaitlistStatus.BOOKED
    pay = call(
        client,
        "post",
        "appointment_pay",
        {"method": "sandbox"},
        token=_token(member),
        args=[body["id"]],
    )
    assert pay.status_code == 200 and pay.json()["amount"] == "40.00"
    assert_offers_exact(schedule.pk)


def test_accepting_twice_books_once(client, member, full) -> None:
    schedule, holder = full
    entry_id = _join(client, member, schedule=schedule.pk).json()["id"]
    _free(holder)
    first = call(client, "post", "waitlist_accept", token=_token(member), args=[entry_id])
    again = call(client, "post", "waitlist_accept", token=_token(member), args=[entry_id])

    assert first.status_code == 201
    assert error(again) == (409, "already_booked")
    assert Appointment.objects.filter(member=member).count() == 1
    place = call(client, "get", "waitlist", token=_token(member)).json()["closed"][0]
    assert place["status"] == "booked" and place["appointment"] == first.json()["id"]


def test_a_place_not_offered_a_slot_cannot_be_accepted(client, member, full) -> None:
    schedule, _holder = full
    entry_id = _join(client, member, schedule=schedule.pk).json()["id"]
    response = call(client, "post", "waitlist_accept", token=_token(member), args=[entry_id])
    assert error(response) == (409, "offer_gone")
    assert not Appointment.objects.filter(member=member).exists()


def test_leaving_with_an_offer_passes_the_slot_on(client, member, other_member, full) -> None:
    schedule, holder = full
    mine = _join(client, member, schedule=schedule.pk).json()["id"]
    theirs = _join(client, other_member, schedule=schedule.pk).json()["id"]
    _free(holder)

    response = call(client, "post", "waitlist_leave", token=_token(member), args=[mine])

    assert response.status_code == 200 and response.json()["status"] == "left"
    assert WaitlistEntry.objects.get(pk=theirs).status == WaitlistStatus.OFFERED
    assert_offers_exact(schedule.pk)
    again = call(client, "post", "waitlist_leave", token=_token(member), args=[mine])
    assert error(again) == (409, "not_leavable")


def test_another_members_place_is_not_found(client, member, other_member, full) -> None:
    schedule, holder = full
    entry_id = _join(client, member, schedule=schedule.pk).json()["id"]
    _free(holder)
    theirs = _token(other_member)

    for name in ("waitlist_accept", "waitlist_leave"):
        response = call(client, "post", name, token=theirs, args=[entry_id])
        assert error(response) == (404, "not_found")
    assert call(client, "get", "waitlist", token=theirs).json() == {"open": [], "closed": []}
    assert WaitlistEntry.objects.get(pk=entry_id).status == WaitlistStatus.OFFERED
    assert not Appointment.objects.filter(member=other_member).exists()


def test_anonymous_and_staff_are_refused(client, front_desk, doctor_user, full) -> None:
    schedule, _holder = full
    assert error(call(client, "get", "waitlist")) == (401, "not_authenticated")
    for user in (front_desk, doctor_user):
        token = pair_for(user, second_factor=True).access
        response = call(client, "post", "waitlist", {"schedule": schedule.pk}, token=token)
        assert error(response) == (403, "permission_denied")
    assert not WaitlistEntry.objects.exists()
