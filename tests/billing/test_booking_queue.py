"""The queued booking (MEDBOOK_BOOKING_QUEUE, billing.booking_queue): an attempt the release
gate lets through is put on RabbitMQ and booked by a worker; the member's page follows it.

Real PostgreSQL, Redis and RabbitMQ (the app publishes to a queue of each test's own). The
tests marked ``worker`` start a real Celery worker process on that queue; the others run the
worker's half (``booking_queue.book``) in this process, as the worker would, to see each
outcome on its own."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu import Connection

from appointments import gate
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel, ScheduleStatus
from appointments.models import Appointment, Schedule
from billing import booking_queue, services
from medbook import outbox
from medbook.celery import app as celery_app
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
UNREACHABLE = "amqp://guest:guest@127.0.0.1:1//"


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    outbox.broker.retry_now()


@pytest.fixture(autouse=True)
def clean_redis():
    caches["redis"].clear()
    yield
    caches["redis"].clear()


@pytest.fixture
def queue(settings) -> Iterator[str]:
    """The booking queue on, on a RabbitMQ queue of this test's own; yields its name."""
    name = f"test-booking-{uuid.uuid4().hex[:8]}"
    settings.MEDBOOK_BOOKING_QUEUE = True
    settings.MEDBOOK_BOOKING_QUEUE_NAME = name
    before = celery_app.conf.broker_url
    _use_broker(BROKER)
    try:
        yield name
    finally:
        _use_broker(before)
        with Connection(BROKER, connect_timeout=5) as broker:
            broker.default_channel.queue_delete(name)


def waiting(name: str) -> int:
    """Jobs waiting on the queue ``name`` (0 when it was never declared)."""
    with Connection(BROKER, connect_timeout=5) as broker:
        try:
            return broker.default_channel.queue_declare(queue=name, passive=True).message_count
        except Exception:
            return 0


@pytest.fixture
def worker(queue) -> Iterator[subprocess.Popen]:
    """A real Celery worker consuming the booking queue, one job at a time, in order."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--quiet", "-A", "medbook", "worker"),
            *("--pool=prefork", "--concurrency=1", "-Q", queue, "--loglevel=WARNING"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output, output


def released(capacity: int, *, fee: str = "50.00") -> Schedule:
    """A session released by the release job (which preheats the gate)."""
    schedule = ScheduleFactory(
        capacity=capacity,
        fee=Decimal(fee),
        status=ScheduleStatus.DRAFT,
        release_at=timezone.now() - dt.timedelta(minutes=1),
    )
    appointment_services.release_due_schedules()
    gate_stock(schedule)
    schedule.refresh_from_db()
    assert schedule.status == ScheduleStatus.PUBLISHED
    return schedule


def gate_stock(schedule: Schedule, remaining: int | None = None) -> None:
    gate.preheat(
        schedule_id=schedule.pk,
        remaining=schedule.capacity - schedule.booked if remaining is None else remaining,
        ends_at=schedule.ends_at,
        now=timezone.now(),
    )


def member_client(levels, level: str = "普通") -> tuple[Client, object]:
    member = MemberFactory(level=levels[level])
    client = Client()
    client.force_login(member.user)
    return client, member


def book(client: Client, schedule: Schedule):
    return client.post(reverse("billing:book", args=[schedule.pk]))


def poll(client: Client, schedule: Schedule, *, htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(reverse("billing:book_queue_status", args=[schedule.pk]), headers=headers)


def consume(schedule: Schedule, member) -> str:
    """The worker's half, here: what the booking queue's job does."""
    return booking_queue.book(schedule_id=schedule.pk, user_id=member.user_id).state


# -- in this process: the page, each outcome ----------------------------------------------------


@pytest.mark.django_db
def test_it_queues_an_attempt_and_the_page_leads_to_the_cashier(levels, queue) -> None:
    schedule = released(2)
    client, member = member_client(levels)

    response = book(client, schedule)

    assert response.status_code == 202
    page = response.content.decode()
    status_url = reverse("billing:book_queue_status", args=[schedule.pk])
    assert "排队中" in page
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 1s"' in page
    assert f'http-equiv="refresh" content="1;url={status_url}"' in page
    assert "<script>" not in page  # strict CSP: htmx attributes only
    assert "no-store" in response["Cache-Control"]
    assert waiting(queue) == 1
    assert not Appointment.objects.filter(member=member).exists()  # not booked in the request

    assert poll(client, schedule).status_code == 200  # still queued: the part polls on
    assert consume(schedule, member) == "booked"

    booked = Appointment.objects.get(member=member, schedule=schedule)
    pay = reverse("billing:appointment_pay", args=[booked.pk])
    assert poll(client, schedule)["HX-Redirect"] == pay
    assert poll(client, schedule, htmx=False)["Location"] == pay
    cashier = client.get(pay)
    assert cashier.status_code == 302 and "/payments/sandbox/" in cashier["Location"]
    schedule.refresh_from_db()
    assert schedule.booked == 1
    # the gate knows: the next click of this member is answered "already booked"
    assert book(client, schedule)["Location"] == reverse(
        "billing:appointment_detail", args=[booked.pk]
    )


@pytest.mark.django_db
def test_a_pending_poll_reads_no_sql(levels, queue) -> None:
    schedule = released(2)
    client, member = member_client(levels)
    book(client, schedule)
    caches["redis"].delete(f"login:{member.user_id}")  # the login's save left a 5 s marker
    poll(client, schedule)  # the session and the login, now in Redis

    with CaptureQueriesContext(connection) as queries:
        response = poll(client, schedule)

    assert response.status_code == 200
    assert 'data-queue-state="queued"' in response.content.decode()
    assert queries.captured_queries == []


@pytest.mark.django_db
def test_a_session_found_full_in_the_database_is_said_in_words(levels, queue) -> None:
    schedule = released(1)
    rival = MemberFactory(level=levels["普通"])
    services.place_booking(member=rival, schedule=schedule, channel=Channel.WEB)
    gate_stock(schedule, remaining=1)  # the gate believes a slot is left
    client, member = member_client(levels)

    assert book(client, schedule).status_code == 202
    assert consume(schedule, member) == "refused"

    page = poll(client, schedule).content.decode()
    assert 'data-queue-state="refused"' in page and "约满" in page
    assert "hx-get" not in page  # no more polling
    assert not Appointment.objects.filter(member=member).exists()
    assert gate.enter(schedule_id=schedule.pk, user_id=rival.user_id + 10**6, address="x")[0] in (
        gate.Verdict.UNKNOWN,
        gate.Verdict.SOLD_OUT,
    )  # the stock was forgotten: it is rebuilt from the database


@pytest.mark.django_db
def test_an_attempt_already_booked_leads_to_that_booking(levels, queue) -> None:
    schedule = released(3)
    client, member = member_client(levels)
    made = services.place_booking(member=member, schedule=schedule, channel=Channel.WEB)
    gate_stock(schedule)  # a fresh release of the stock: the gate has forgotten the booking

    assert book(client, schedule).status_code == 202
    assert consume(schedule, member) == "booked"

    assert poll(client, schedule)["HX-Redirect"] == reverse(
        "billing:appointment_pay", args=[made.pk]
    )
    assert Appointment.objects.filter(member=member, schedule=schedule).count() == 1


@pytest.mark.django_db
def test_the_level_cap_is_said_in_words_and_the_unit_goes_back(levels, queue) -> None:
    schedule = released(2)
    client, member = member_client(levels)
    member.level.max_active_appointments = 1
    member.level.save(update_fields=["max_active_appointments"])
    services.place_booking(member=member, schedule=ScheduleFactory(), channel=Channel.WEB)

    assert book(client, schedule).status_code == 202
    assert consume(schedule, member) == "refused"

    page = poll(client, schedule).content.decode()
    assert 'data-queue-state="refused"' in page
    assert "普通会员" in page and "取消" in page  # the level's limit, in the member's words
    other, _ = member_client(levels)
    assert book(other, schedule).status_code == 202  # the unit came back
    assert book(member_client(levels)[0], schedule).status_code == 202  # and the other one


@pytest.mark.django_db
def test_the_page_says_what_to_do_when_nothing_comes_back(levels, queue) -> None:
    schedule = released(2)
    client, member = member_client(levels)
    book(client, schedule)
    key = f"bookq:{schedule.pk}:{member.user_id}"
    caches["redis"].set(
        key, {"state": "queued", "since": time.time() - gate.TRYING_SECONDS - 1, "next": ""}
    )

    page = poll(client, schedule, htmx=False).content.decode()

    assert 'data-queue-state="late"' in page and "我的预约" in page
    assert "hx-get" not in page and "http-equiv" not in page


@pytest.mark.django_db
def test_a_double_click_queues_once(levels, queue) -> None:
    schedule = released(2)
    client, _member = member_client(levels)

    first, second = book(client, schedule), book(client, schedule)

    assert first.status_code == 202
    status_url = reverse("billing:book_queue_status", args=[schedule.pk])
    assert second.status_code == 302 and second["Location"] == status_url
    assert waiting(queue) == 1


@pytest.mark.django_db
def test_only_the_member_who_queued_reads_the_status(levels, queue, front_desk) -> None:
    schedule = released(2)
    client, _member = member_client(levels)
    book(client, schedule)
    other, _ = member_client(levels)
    staff = Client()
    staff.force_login(front_desk)

    assert poll(client, schedule).status_code == 200
    anonymous = poll(Client(), schedule, htmx=False)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert poll(other, schedule).status_code == 404  # their own: none
    assert poll(staff, schedule).status_code == 403


@pytest.mark.django_db
def test_with_the_broker_down_the_attempt_is_booked_directly(levels, queue) -> None:
    schedule = released(1)
    client, member = member_client(levels)
    _use_broker(UNREACHABLE)

    response = book(client, schedule)

    booked = Appointment.objects.get(member=member, schedule=schedule)
    assert response["Location"] == reverse("billing:appointment_pay", args=[booked.pk])
    assert poll(client, schedule).status_code == 404  # nothing queued
    loser, _ = member_client(levels)
    assert book(loser, schedule).status_code == 409  # and the gate was settled


def test_the_queue_needs_a_real_broker_and_redis() -> None:
    env = {**os.environ, "MEDBOOK_BOOKING_QUEUE": "true", "CELERY_BROKER_URL": ""}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "medbook.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and "MEDBOOK_BOOKING_QUEUE needs" in run.stderr


# -- a real worker ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_books_a_queued_attempt_and_the_page_leads_to_the_cashier(levels, worker) -> None:
    schedule = released(2)
    client, member = member_client(levels)

    assert book(client, schedule).status_code == 202

    eventually(lambda: "HX-Redirect" in poll(client, schedule))
    booked = Appointment.objects.get(member=member, schedule=schedule)
    assert booked.status == AppointmentStatus.PENDING_PAYMENT
    assert poll(client, schedule)["HX-Redirect"] == reverse(
        "billing:appointment_pay", args=[booked.pk]
    )
    assert "/payments/sandbox/" in client.get(poll(client, schedule)["HX-Redirect"])["Location"]


@pytest.mark.django_db(transaction=True)
def test_members_rushing_through_the_queue_get_exactly_its_slots(levels, worker) -> None:
    schedule = released(4)
    clients = [member_client(levels) for _ in range(16)]
    gate_stock(schedule, remaining=6)  # a stock that lets too many through: the database decides
    start = threading.Barrier(len(clients))
    answers: dict[int, int] = {}

    def rush(client: Client, member) -> None:
        start.wait()
        try:
            answers[member.pk] = book(client, schedule).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=rush, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    queued = [(c, m) for c, m in clients if answers[m.pk] == 202]
    assert len(queued) == 6 and sorted(answers.values()).count(409) == 10

    def states() -> list[str]:
        return [
            booking_queue.status(schedule_id=schedule.pk, user_id=m.user_id).state
            for _c, m in queued
        ]

    eventually(lambda: "queued" not in states(), timeout=30)
    assert sorted(states()) == ["booked"] * 4 + ["refused"] * 2
    schedule.refresh_from_db()
    numbers = sorted(
        Appointment.objects.filter(schedule=schedule).values_list("queue_number", flat=True)
    )
    assert (schedule.booked, numbers) == (4, [1, 2, 3, 4])
