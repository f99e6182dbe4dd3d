"""Issue 14: booking through the API with an ``Idempotency-Key`` — the same key from the same
member books once and answers the same (also when the requests race, on PostgreSQL), a key
reused for another request is a 422, keys are per member, and a refused booking uses no key."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment
from billing.models import BookingKey
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants

pytestmark = pytest.mark.django_db


def _book(client, token, schedule_id, key, **more):
    return call(
        client,
        "post",
        "appointments",
        {"schedule": schedule_id, **more},
        token=token,
        headers={"HTTP_IDEMPOTENCY_KEY": key},
    )


def test_the_same_key_replays_the_same_booking(client, member) -> None:
    token = pair_for(member.user).access
    schedule = ScheduleFactory()
    key = str(uuid.uuid4())

    first = _book(client, token, schedule.pk, key)
    cache.clear()  # the key is kept in the database, not (only) in Redis
    second = _book(client, token, schedule.pk, key)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first["Idempotent-Replayed"] == "false" and second["Idempotent-Replayed"] == "true"
    assert first["Location"] == second["Location"]
    assert Appointment.objects.filter(member=member).count() == 1
    assert BookingKey.objects.get(member=member, key=key).appointment_id == first.json()["id"]


def test_the_replay_is_the_first_answer_even_after_the_booking_changed(client, member) -> None:
    token = pair_for(member.user).access
    key = "order-7f3a"
    first = _book(client, token, ScheduleFactory().pk, key).json()
    call(client, "post", "appointment_cancel", token=token, args=[first["id"]])

    replay = _book(client, token, first["schedule"]["id"], key)
    assert replay.status_code == 201 and replay.json() == first
    current = call(client, "get", "appointment", token=token, args=[first["id"]]).json()
    assert current["status"] == "cancelled"


def test_a_key_reused_for_another_request_is_a_422(client, member) -> None:
    token = pair_for(member.user).access
    key = str(uuid.uuid4())
    booked = _book(client, token, ScheduleFactory().pk, key)
    assert booked.status_code == 201

    other = ScheduleFactory()
    reused = _book(client, token, other.pk, key)
    assert error(reused) == (422, "idempotency_key_reused")
    assert "Idempotency-Key" in reused.json()["error"]["fields"]
    same_session_new_terms = _book(
        client, token, booked.json()["schedule"]["id"], key, accept_late=True
    )
    assert error(same_session_new_terms) == (422, "idempotency_key_reused")
    in_chinese = call(
        client,
        "post",
        "appointments",
        {"schedule": other.pk},
        token=token,
        language="zh-hans",
        headers={"HTTP_IDEMPOTENCY_KEY": key},
    )
    assert "幂等" in in_chinese.json()["error"]["message"]
    assert not other.appointments.exists()


def test_keys_are_per_member(client, member, other_member) -> None:
    schedule = ScheduleFactory()
    key = "same-key"
    mine = _book(client, pair_for(member.user).access, schedule.pk, key)
    theirs = _book(client, pair_for(other_member.user).access, schedule.pk, key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs["Idempotent-Replayed"] == "false"


def test_a_refused_booking_uses_no_key(client, member) -> None:
    token = pair_for(member.user).access
    schedule = ScheduleFactory(release_at=timezone.now() + timezone.timedelta(hours=2))
    key = str(uuid.uuid4())

    assert error(_book(client, token, schedule.pk, key)) == (409, "not_yet_open")
    assert not BookingKey.objects.exists()
    schedule.release_at = timezone.now() - timezone.timedelta(minutes=1)
    schedule.save(update_fields=["release_at"])
    assert _book(client, token, schedule.pk, key).status_code == 201


def test_without_a_key_a_repeat_is_refused_as_already_booked(client, member) -> None:
    token = pair_for(member.user).access
    schedule = ScheduleFactory()
    assert (
        call(client, "post", "appointments", {"schedule": schedule.pk}, token=token).status_code
        == 201
    )
    again = call(client, "post", "appointments", {"schedule": schedule.pk}, token=token)
    assert error(again) == (409, "already_booked")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_racing_with_one_key_book_once_and_answer_the_same(member) -> None:
    token = pair_for(member.user).access
    schedule = ScheduleFactory(capacity=10)
    key = str(uuid.uuid4())
    racers = 8
    barrier = threading.Barrier(racers)
    answers: list = [None] * racers

    def racer(index: int) -> None:
        try:
            barrier.wait()
            response = _book(Client(), token, schedule.pk, key)
            answers[index] = (
                response.status_code,
                response.json(),
                response["Idempotent-Replayed"],
            )
        except Exception as exc:  # the assertion below shows it
            answers[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(isinstance(a, tuple) for a in answers), answers
    assert {status for status, _, _ in answers} == {201}
    assert len({a[1]["id"] for a in answers}) == 1
    assert all(body == answers[0][1] for _, body, _ in answers)
    assert Counter(replayed for _, _, replayed in answers) == {"false": 1, "true": racers - 1}
    assert Appointment.objects.filter(member=member).count() == 1
    assert BookingKey.objects.count() == 1
    assert_schedule_invariants(schedule.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_a_key_against_a_reuse_of_it_books_one_and_refuses_the_other(member) -> None:
    token = pair_for(member.user).access
    first, second = ScheduleFactory(), ScheduleFactory()
    key = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    answers: dict = {}

    def racer(schedule_id: int) -> None:
        try:
            barrier.wait()
            response = _book(Client(), token, schedule_id, key)
            answers[schedule_id] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer, args=(s.pk,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    statuses = sorted(status for status, _ in answers.values())
    assert statuses == [201, 422], answers
    assert Appointment.objects.filter(member=member).count() == 1
