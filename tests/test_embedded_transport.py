"""The embedded default's broker (medbook/transport.py) under concurrent writers.

kombu's own filesystem transport lets a consumer read a message file before its publisher has
finished writing it (the worker of ``dev.py run`` died of the ``JSONDecodeError``). Here several
processes publish large messages, reconnecting (so re-binding the queue) every few messages,
while a consumer reads: every message arrives exactly once, nobody crashes, nothing is left over.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from kombu import Connection, Exchange, Queue

ROOT = Path(__file__).resolve().parents[1]
TRANSPORT = "medbook.transport:Transport"
PUBLISHERS = 4
PER_PUBLISHER = 250

PUBLISHER = f"""
import sys
TRANSPORT = {TRANSPORT!r}
from kombu import Connection, Exchange, Queue
folder, ident, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = {{
    "data_folder_in": folder + "/queue", "data_folder_out": folder + "/queue",
    "control_folder": folder + "/control", "processed_folder": folder + "/processed",
}}
exchange = Exchange("hammer", type="direct")
queue = Queue("hammer", exchange, routing_key="hammer")
sent = 0
while sent < count:
    # A new connection declares (binds) the queue again: the exchange table is rewritten too.
    with Connection("filesystem://", transport=TRANSPORT, transport_options=options) as connection:
        producer = connection.Producer(serializer="json")
        for _ in range(min(20, count - sent)):
            body = {{"publisher": ident, "n": sent, "pad": "x" * (20000 + 37 * sent)}}
            producer.publish(body, exchange=exchange, routing_key="hammer", declare=[queue])
            sent += 1
"""


def options(folder: Path) -> dict[str, str]:
    for name in ("queue", "control", "processed"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
    }


def test_the_embedded_default_uses_the_atomic_transport() -> None:
    # The test settings use memory://; the embedded mode's choice is read from the settings file.
    source = (ROOT / "medbook" / "settings.py").read_text()
    assert f'CELERY_BROKER_TRANSPORT = "{TRANSPORT}"' in source
    assert settings.CELERY_BROKER_URL == "memory://"


def test_concurrent_publishers_and_a_consumer_lose_nothing_and_crash_nothing(tmp_path) -> None:
    exchange = Exchange("hammer", type="direct")
    queue = Queue("hammer", exchange, routing_key="hammer")
    received: list[tuple[int, int]] = []

    def on_message(body: dict, message) -> None:
        assert body["pad"] == "x" * (20000 + 37 * body["n"])
        received.append((body["publisher"], body["n"]))
        message.ack()

    expected = {(p, n) for p in range(PUBLISHERS) for n in range(PER_PUBLISHER)}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with Connection("filesystem://", transport=TRANSPORT, transport_options=options(tmp_path)) as c:
        c.transport.polling_interval = 0.01
        with c.Consumer([queue], callbacks=[on_message], accept=["json"]):
            publishers = [
                subprocess.Popen(
                    [sys.executable, "-c", PUBLISHER, str(tmp_path), str(p), str(PER_PUBLISHER)],
                    cwd=ROOT,
                    env=env,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for p in range(PUBLISHERS)
            ]
            # A generous bound: on a loaded machine the publishers alone take long; a message
            # missing after it is lost, not late (speed is not what this test measures).
            deadline = time.monotonic() + 180
            while len(received) < len(expected) and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    c.drain_events(timeout=0.5)
            errors = [p.communicate(timeout=10)[1] for p in publishers]

    assert [p.returncode for p in publishers] == [0] * PUBLISHERS, errors
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert set(received) == expected, f"{len(expected - set(received))} messages lost"
    assert os.listdir(tmp_path / "queue") == [], "temporary or unread files left behind"


def test_an_undecodable_file_is_set_aside_instead_of_killing_the_consumer(tmp_path) -> None:
    # Names of its own: kombu keeps the bindings it has made in memory, per process.
    queue = Queue("torn", Exchange("torn", type="direct"), routing_key="torn")
    folder = tmp_path / "queue"
    with Connection("filesystem://", transport=TRANSPORT, transport_options=options(tmp_path)) as c:
        c.transport.polling_interval = 0.01
        producer = c.Producer(serializer="json")
        # What kombu's own transport leaves when its writer is caught half-way: an empty file.
        (folder / "0000000000000001_torn.torn.msg").write_bytes(b"")
        producer.publish({"n": 1}, exchange="torn", routing_key="torn", declare=[queue])
        received = []
        with c.Consumer(
            [queue], callbacks=[lambda body, m: (received.append(body), m.ack())], accept=["json"]
        ):
            c.drain_events(timeout=5)

    assert received == [{"n": 1}]
    assert os.listdir(folder) == [".0000000000000001_torn.torn.msg.bad"]
