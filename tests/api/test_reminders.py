"""The release reminders API (放号提醒): set on a session not yet open to the member, listed
with when it goes out, cancelled; another member's is a 404, refused input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.choices import ReminderStatus
from appointments.models import ReleaseReminder
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def later():
    """Released to the public two days from now (not open to the member yet)."""
    opening = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return ScheduleFactory(
        release_at=opening, date=timezone.localdate(opening) + dt.timedelta(days=2)
    )


def _token(member) -> str:
    return pair_for(member.user).access


def _set(client, member, schedule_id):
    return call(client, "post", "reminders", {"schedule": schedule_id}, token=_token(member))


def test_it_sets_a_reminder_once_and_lists_it(client, member, later) -> None:
    first = _set(client, member, later.pk)
    again = _set(client, member, later.pk)

    assert first.status_code == 201 and again.status_code == 200
    body = first.json()
    assert again.json()["id"] == body["id"]
    assert body["status"] == "waiting" and body["session"]["id"] == later.pk
    assert dt.datetime.fromisoformat(body["due_at"]) == later.release_at
    listed = call(client, "get", "reminders", token=_token(member)).json()
    assert [row["id"] for row in listed["waiting"]] == [body["id"]]
    assert ReleaseReminder.objects.count() == 1


def test_a_session_already_open_is_refused(client, member) -> None:
    response = _set(client, member, ScheduleFactory().pk)
    assert error(response) == (409, "already_open")
    assert not ReleaseReminder.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"), [({}, 400), ({"schedule": "x"}, 400), ({"schedule": 2**31 - 1}, 404)]
)
def test_bad_input_writes_nothing(client, member, body, status) -> None:
    response = call(client, "post", "reminders", body, token=_token(member))
    assert error(response)[0] == status
    assert response.json()["error"]["message"]
    assert not ReleaseReminder.objects.exists()


def test_cancelling_closes_it(client, member, later) -> None:
    pk = _set(client, member, later.pk).json()["id"]
    response = call(client, "post", "reminder_cancel", token=_token(member), args=[pk])

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["due_at"] is None
    assert ReleaseReminder.objects.get(pk=pk).status == ReminderStatus.CANCELLED
    listed = call(client, "get", "reminders", token=_token(member)).json()
    assert listed["waiting"] == [] and [row["id"] for row in listed["closed"]] == [pk]


def test_another_members_reminder_is_not_found(client, member, other_member, later) -> None:
    pk = _set(client, member, later.pk).json()["id"]
    theirs = _token(other_member)
    response = call(client, "post", "reminder_cancel", token=theirs, args=[pk])
    assert error(response) == (404, "not_found")
    assert call(client, "get", "reminders", token=theirs).json() == {"waiting": [], "closed": []}
    assert ReleaseReminder.objects.get(pk=pk).status == ReminderStatus.WAITING


def test_anonymous_and_staff_are_refused(client, front_desk, clinic_admin, later) -> None:
    assert error(call(client, "get", "reminders")) == (401, "not_authenticated")
    for user in (front_desk, clinic_admin):
        token = pair_for(user, second_factor=True).access
        response = call(client, "post", "reminders", {"schedule": later.pk}, token=token)
        assert error(response) == (403, "permission_denied")
    assert not ReleaseReminder.objects.exists()
