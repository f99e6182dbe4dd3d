"""A real Celery prefork worker on RabbitMQ runs a periodic job against PostgreSQL: the
production path of background work, including the database pools each forked child opens."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from appointments.choices import ScheduleStatus
from appointments.models import Schedule
from medbook.celery import app
from tests.appointments.factories import ScheduleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def test_a_prefork_worker_on_rabbitmq_runs_jobs_against_postgresql(levels) -> None:
    ended = [ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=d)) for d in (1, 2)]
    db = settings.DATABASES["default"]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--quiet",
            "-A",
            "medbook",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Connection(BROKER, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            for _ in range(2):  # twice: the job is idempotent, the second run changes nothing
                app.send_task(
                    "appointments.tasks.finish_past_schedules",
                    queue=queue,
                    connection=connection,
                )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = Schedule.objects.filter(
                pk__in=[s.pk for s in ended], status=ScheduleStatus.FINISHED
            ).count()
            if done == len(ended):
                break
            time.sleep(0.3)
        assert done == len(ended), "the worker did not run the job"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
