"""Real Celery prefork workers on RabbitMQ run MedBook's jobs against PostgreSQL: the production
path of background work, including the database pools each forked child opens, and the
sandbox's notification travelling over HTTP to a live MedBook."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from appointments.choices import AppointmentStatus, Channel, ScheduleStatus
from appointments.models import Schedule
from billing import services
from billing.choices import OrderStatus
from billing.gateways import sandbox
from billing.models import Order, SandboxRefund
from medbook.celery import app
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import unpaid_order
from tests.members.factories import MemberFactory
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def worker(live_server) -> Iterator[Callable[..., None]]:
    """A prefork worker on its own RabbitMQ queue; yields a function that sends it a task."""
    db = settings.DATABASES["default"]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "MEDBOOK_PUBLIC_URL": live_server.url,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--quiet", "-A", "medbook", "worker"),
            *("--pool=prefork", "--concurrency=2", "-Q", queue, "--loglevel=WARNING"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    connection = Connection(BROKER, connect_timeout=5)
    connection.ensure_connection(max_retries=1)

    def send(name: str, *args: object) -> None:
        app.send_task(name, args=list(args), queue=queue, connection=connection)

    try:
        yield send
    finally:
        connection.release()
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output, output


def test_a_worker_runs_the_schedule_job_twice_safely(worker, levels) -> None:
    ended = [ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=d)) for d in (1, 2)]

    worker("appointments.tasks.finish_past_schedules")
    worker("appointments.tasks.finish_past_schedules")

    eventually(
        lambda: (
            Schedule.objects.filter(
                pk__in=[s.pk for s in ended], status=ScheduleStatus.FINISHED
            ).count()
            == 2
        )
    )


def test_payment_refund_and_expiry_jobs_run_end_to_end(worker, levels) -> None:
    order = unpaid_order()
    stale = unpaid_order(at=timezone.now() - dt.timedelta(minutes=30))

    # The sandbox's notification goes over HTTP to the live server and confirms the booking.
    trade = sandbox.pay(order=order)
    worker("billing.tasks.deliver_sandbox_notification", trade.pk)
    eventually(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.PAID)
    assert Order.objects.get(pk=order.pk).appointment.status == AppointmentStatus.CONFIRMED

    # A refund is carried out by the worker, once, however often the job is sent.
    refund = services.request_refund(order=Order.objects.get(pk=order.pk), reason="取消")
    worker("billing.tasks.carry_out_refund", refund.pk)
    worker("billing.tasks.carry_out_refund", refund.pk)
    eventually(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED)
    assert SandboxRefund.objects.count() == 1

    # The hold of an unpaid booking runs out.
    worker("billing.tasks.expire_unpaid_orders")
    eventually(lambda: Order.objects.get(pk=stale.pk).status == OrderStatus.CLOSED)


def test_the_release_no_show_and_delivery_jobs_run_on_a_real_worker(worker, levels) -> None:
    # Release: drafts that fell due while the workers were away are all published, once.
    missed = [
        ScheduleFactory(
            status=ScheduleStatus.DRAFT,
            date=timezone.localdate() + dt.timedelta(days=8),
            start_time=dt.time(8 + hour),
            end_time=dt.time(9 + hour),
            release_at=timezone.now() - dt.timedelta(hours=hour + 1),
        )
        for hour in range(3)
    ]
    worker("appointments.tasks.release_due_schedules")
    worker("appointments.tasks.release_due_schedules")
    eventually(
        lambda: (
            Schedule.objects.filter(
                pk__in=[s.pk for s in missed], status=ScheduleStatus.PUBLISHED
            ).count()
            == 3
        )
    )

    # No-show sweep: yesterday's still-confirmed appointment.
    from appointments.services import book_appointment

    yesterday = ScheduleFactory(
        date=timezone.localdate() - dt.timedelta(days=1),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=5),
    )
    missed_visit = book_appointment(
        member=MemberFactory(),
        schedule=yesterday,
        channel=Channel.WEB,
        now=yesterday.starts_at - dt.timedelta(hours=3),
    )
    worker("appointments.tasks.sweep_no_shows")
    eventually(
        lambda: (
            type(missed_visit).objects.get(pk=missed_visit.pk).status == AppointmentStatus.NO_SHOW
        )
    )

    # A message due by text goes out through the worker.
    from members.models import Message

    message = Message.objects.create(
        member=missed_visit.member, kind="reminder", title="明天就诊", body="请按时就诊"
    )
    worker("members.tasks.deliver_message", message.pk)
    eventually(lambda: Message.objects.get(pk=message.pk).texted_at is not None)


def test_a_quorum_queue_runs_jobs_and_delays_a_countdown(live_server, levels) -> None:
    """CELERY_QUEUE_TYPE=quorum: the worker declares its queue as a quorum queue, and a job sent
    with a countdown (as a webhook's retry is) waits on the broker, then runs."""
    db = settings.DATABASES["default"]
    queue = f"test-quorum-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
        "CELERY_QUEUE_TYPE": "quorum",
        "MEDBOOK_PUBLIC_URL": live_server.url,
        "PYTHONPATH": str(ROOT),
    }
    ended = ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=1))
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--quiet", "-A", "medbook", "worker"),
            *("--pool=prefork", "--concurrency=1", "--loglevel=WARNING"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Connection(BROKER, connect_timeout=5) as connection:
            # Declared by the worker (a passive declaration finds it), as quorum: declaring
            # it classic then is refused.
            def refused(arguments: dict, passive: bool = False) -> str:
                try:
                    connection.channel().queue_declare(
                        queue, passive=passive, durable=True, auto_delete=False, arguments=arguments
                    )
                except Exception as exc:
                    connection.close()
                    connection.ensure_connection(max_retries=3)
                    return str(exc)
                return ""

            def declared_quorum() -> bool:
                if refused({}, passive=True):
                    return False  # not declared yet
                return "x-queue-type" in refused({"x-queue-type": "classic"})

            eventually(declared_quorum, timeout=60, every=1)
            send = (
                "import time, django; django.setup(); from medbook.celery import app; "
                "app.send_task('appointments.tasks.finish_past_schedules', countdown=4); "
                "print(time.time())"
            )
            sent = subprocess.run(
                [sys.executable, "-c", send],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=60,
                capture_output=True,
                text=True,
            )
            sent_at = float(sent.stdout.strip().splitlines()[-1])
            eventually(
                lambda: Schedule.objects.filter(
                    pk=ended.pk, status=ScheduleStatus.FINISHED
                ).exists(),
                timeout=60,
                every=0.1,
            )
            # Not before its countdown (a classic worker would hold it; here the broker does).
            assert time.time() - sent_at >= 3.5
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        with Connection(BROKER, connect_timeout=5) as connection:
            connection.default_channel.queue_delete(queue)
    assert "Traceback" not in output, output


def test_a_worker_hands_over_an_express_bookings_promise_at_once(worker, levels) -> None:
    """Each worker listens for promises committed with a notification (the express booking's)
    and hands them to the broker within its grace: nothing else would before the relay."""
    from appointments.models import Appointment
    from medbook.models import OutboxTask
    from members.models import Message
    from tests.test_outbox_listener import _listening

    eventually(lambda: _listening() >= 1, what="the worker's outbox listener")
    schedule = ScheduleFactory()
    member = MemberFactory()
    booked = services.express_booking(
        user_id=member.user_id,
        schedule_id=schedule.pk,
        patient_id=None,
        accept_late=True,
        now=timezone.now(),
    )

    appointment = Appointment.objects.get(pk=booked.appointment_id)
    message = Message.objects.get(reference=f"appointment:{appointment.pk}")
    task = OutboxTask.objects.get(args=[message.pk])
    eventually(lambda: OutboxTask.objects.get(pk=task.pk).sent_at is not None, timeout=4)
