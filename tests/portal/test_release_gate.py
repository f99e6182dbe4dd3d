"""The booking page behind the release gate: losers and double clicks are answered from Redis,
PostgreSQL still decides every booking, and a flushed Redis or a cancellation changes nothing
the members can see. Real PostgreSQL and Redis; the last test with real threads."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, ScheduleStatus
from appointments.models import Appointment, Schedule
from billing import services
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_redis")]


def released(capacity: int, django_capture_on_commit_callbacks) -> Schedule:
    """A session released by the release job (which preheats the gate)."""
    schedule = ScheduleFactory(
        capacity=capacity,
        fee=Decimal("50.00"),
        status=ScheduleStatus.DRAFT,
        release_at=timezone.now() - dt.timedelta(minutes=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.release_due_schedules()
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED
    return schedule


def member_client(levels) -> tuple[Client, object]:
    member = MemberFactory(level=levels["普通"])
    client = Client()
    client.force_login(member.user)
    return client, member


def book(client: Client, schedule: Schedule):
    return client.post(reverse("billing:book", args=[schedule.pk]))


def test_a_loser_is_answered_by_the_gate_without_the_booking_queries(
    levels, django_capture_on_commit_callbacks
) -> None:
    schedule = released(1, django_capture_on_commit_callbacks)
    winner, _ = member_client(levels)
    assert book(winner, schedule).status_code == 302  # to the cashier
    loser, member = member_client(levels)
    book(loser, schedule)  # loads the session and login once

    with CaptureQueriesContext(connection) as queries:
        response = book(loser, schedule)

    assert response.status_code == 409
    assert queries.captured_queries == []  # not the session, the login, the member: nothing
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "约满" in page and reverse("billing:book", args=[schedule.pk]) in page
    assert not Appointment.objects.filter(member=member).exists()


def test_a_double_click_shows_the_booking_made_by_the_first(
    levels, django_capture_on_commit_callbacks
) -> None:
    schedule = released(5, django_capture_on_commit_callbacks)
    client, member = member_client(levels)
    first = book(client, schedule)
    second = book(client, schedule)

    booked = Appointment.objects.get(member=member)
    assert first["Location"] == reverse("billing:appointment_pay", args=[booked.pk])
    assert second["Location"] == reverse("billing:appointment_detail", args=[booked.pk])
    assert Appointment.objects.filter(schedule=schedule).count() == 1


def test_a_redis_flush_mid_release_changes_no_answer(levels, django_capture_on_commit_callbacks):
    schedule = released(2, django_capture_on_commit_callbacks)
    clients = [member_client(levels) for _ in range(4)]
    assert book(clients[0][0], schedule).status_code == 302
    caches["redis"].clear()  # the stock is gone: the database decides, and rebuilds it
    assert book(clients[1][0], schedule)["Location"].endswith("/pay/")
    assert [book(client, schedule).status_code for client, _ in clients[2:]] == [409, 409]
    schedule.refresh_from_db()
    assert schedule.booked == 2


def test_a_cancellation_gives_its_slot_back_to_the_next_attempt(
    levels, django_capture_on_commit_callbacks
) -> None:
    schedule = released(1, django_capture_on_commit_callbacks)
    first, member = member_client(levels)
    book(first, schedule)
    second, other = member_client(levels)
    assert book(second, schedule).status_code == 409

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(
            appointment=Appointment.objects.get(member=member), by=member.user, reason="有事"
        )

    assert book(second, schedule)["Location"].endswith("/pay/")
    assert Appointment.objects.get(member=other, schedule=schedule).queue_number == 1


def test_a_member_who_cancelled_can_book_the_session_again(
    levels, django_capture_on_commit_callbacks
) -> None:
    """The gate's "already booked" mark of a member goes with their cancellation (or their
    unpaid hold running out): booking again books, it does not show the cancelled one."""
    schedule = released(2, django_capture_on_commit_callbacks)
    client, member = member_client(levels)
    assert book(client, schedule)["Location"].endswith("/pay/")
    first = Appointment.objects.get(member=member)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(appointment=first, by=member.user, reason="改时间")

    response = book(client, schedule)

    assert response["Location"].endswith("/pay/")
    again = Appointment.objects.get(member=member, status=AppointmentStatus.PENDING_PAYMENT)
    assert again.pk != first.pk


def test_an_attempt_before_the_preheat_goes_to_the_database(levels) -> None:
    schedule = ScheduleFactory(capacity=1, fee=Decimal("50.00"))  # published, never preheated
    client, member = member_client(levels)
    assert book(client, schedule)["Location"].endswith("/pay/")
    assert Appointment.objects.get(member=member).status == AppointmentStatus.PENDING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_members_rushing_one_session_get_exactly_its_slots(levels) -> None:
    schedule = ScheduleFactory(capacity=4, fee=Decimal("50.00"))
    from appointments import gate

    gate.preheat(schedule_id=schedule.pk, remaining=4, ends_at=schedule.ends_at, now=timezone.now())
    clients = [member_client(levels)[0] for _ in range(12)]
    start = threading.Barrier(len(clients))
    answers: list[str] = []

    def rush(client: Client) -> None:
        start.wait()
        try:
            response = book(client, schedule)
            answers.append(response.get("Location") or str(response.status_code))
        finally:
            connection.close()

    threads = [threading.Thread(target=rush, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(a.endswith("/pay/") for a in answers) == 4
    assert answers.count("409") == 8
    schedule.refresh_from_db()
    numbers = sorted(
        Appointment.objects.filter(schedule=schedule).values_list("queue_number", flat=True)
    )
    assert (schedule.booked, numbers) == (4, [1, 2, 3, 4])


def test_a_page_reads_its_session_from_redis_not_the_database(levels) -> None:
    client, _member = member_client(levels)
    client.get(reverse("members:profile"))  # the login's session, now in the cache

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("members:profile")).status_code == 200

    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_a_session_logged_out_elsewhere_is_let_through_only_to_the_login(
    levels, django_capture_on_commit_callbacks
) -> None:
    """The gate reads the session without checking the login; a session that the login check
    refuses gets its unit of stock back and the login page, and books nothing."""
    schedule = released(1, django_capture_on_commit_callbacks)
    stale, member = member_client(levels)
    elsewhere = Client()
    elsewhere.force_login(member.user)
    elsewhere.logout()  # logging out ends the member's other sessions too

    response = book(stale, schedule)

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Appointment.objects.filter(schedule=schedule).exists()
    fresh, _ = member_client(levels)
    assert book(fresh, schedule).status_code == 302  # the unit came back: the slot is won
    assert Appointment.objects.filter(schedule=schedule).count() == 1


def test_staff_posting_a_booking_are_refused_by_the_view_not_the_gate(
    levels, django_capture_on_commit_callbacks, front_desk
) -> None:
    schedule = released(1, django_capture_on_commit_callbacks)
    winner, _ = member_client(levels)
    assert book(winner, schedule).status_code == 302
    client = Client()
    client.force_login(front_desk)

    assert book(client, schedule).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_members_rushing_while_the_release_job_publishes_and_preheats_get_exactly_its_slots(
    levels,
) -> None:
    """Members press "book" from before the release until after it: the first attempts find a
    draft (404), then some come between the release's commit and its preheat (no stock: the
    database decides and rebuilds it), the rest meet the preheated gate. Exactly the capacity
    is booked, numbered 1..capacity, every other member is told "sold out", and the gate
    ends up knowing it."""
    from appointments import gate

    capacity = 5
    schedule = ScheduleFactory(
        capacity=capacity,
        fee=Decimal("50.00"),
        status=ScheduleStatus.DRAFT,
        release_at=timezone.now() - dt.timedelta(minutes=1),
    )
    clients = [member_client(levels)[0] for _ in range(16)]
    start = threading.Barrier(len(clients) + 1)
    answers: list[str] = []

    def rush(client: Client) -> None:
        start.wait()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                response = book(client, schedule)
                if response.status_code != 404:  # still a draft: press again
                    answers.append(response.get("Location") or str(response.status_code))
                    return
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=rush, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(0.05)
    appointment_services.release_due_schedules()  # publishes, preheats after its commit
    for thread in threads:
        thread.join()

    assert len(answers) == len(clients)
    assert sum(a.endswith("/pay/") for a in answers) == capacity
    assert answers.count("409") == len(clients) - capacity
    schedule.refresh_from_db()
    numbers = sorted(
        Appointment.objects.filter(schedule=schedule).values_list("queue_number", flat=True)
    )
    assert (schedule.booked, numbers) == (capacity, list(range(1, capacity + 1)))
    # The gate may still hold a unit or two for attempts it let through before a booking's
    # commit reached it: the database refuses the next attempt, and the gate then knows.
    late, _ = member_client(levels)
    assert book(late, schedule).status_code == 409
    verdict, _ = gate.enter(schedule_id=schedule.pk, user_id=10**9, address="203.0.113.9")
    assert verdict in (gate.Verdict.SOLD_OUT, gate.Verdict.UNKNOWN)
    assert Schedule.objects.get(pk=schedule.pk).booked == capacity
