"""The texts a worker sends show in its output as the web process's sign-up code does (issue
17, part 7): a real Celery worker, started as ``dev.py run`` starts it (solo pool, WARNING),
logs each text through Django's logging — same format, numbers masked — and nothing else at
INFO."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from medbook.celery import app
from members.models import Message
from members.services import send_message
from tests.members.factories import MemberFactory
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def test_a_text_the_worker_sends_shows_in_its_output(levels) -> None:
    member = MemberFactory(name="赵敏", phone="+8613912345678")
    message = send_message(
        member=member, kind="cancelled", title="预约已取消", body="您 12月2日 的预约已取消。"
    )
    db = settings.DATABASES["default"]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "--quiet", "-A", "medbook", "worker"),
            *("--loglevel=WARNING", "--pool=solo", "-Q", queue),
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
            app.send_task(
                "members.tasks.deliver_message",
                args=[message.pk],
                queue=queue,
                connection=connection,
            )
        eventually(lambda: Message.objects.get(pk=message.pk).texted_at is not None, 60)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]

    assert "INFO medbook.sms [-] SMS to 139****5678:" in output, output
    assert "您 12月2日 的预约已取消。" in output
    assert "13912345678" not in output
    assert "Task members.tasks.deliver_message" not in output  # Celery's INFO stays quiet
    assert "Traceback" not in output, output
