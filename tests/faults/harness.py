"""MedBook as it runs in production, for fault experiments: gunicorn (production settings, sync
workers), a prefork Celery worker and beat, each talking to PostgreSQL, Redis and RabbitMQ
through a FaultProxy, and a small HTTP client that behaves like a browser behind TLS
(``X-Forwarded-Proto: https``, so the ``__Host-`` cookies and CSRF checks are the real ones).

The test process reaches the database directly (not through the proxies) to set up and count.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

from django.conf import settings
from kombu import Connection

from tests.faults.proxy import FaultProxy
from tests.isolation import worker_port

ROOT = Path(__file__).resolve().parents[2]
BROKER = urlparse(os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"))
REDIS = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "10"))  # outage length: 10 in CI, 60 by hand


def free_port() -> int:
    """Gunicorn's port: from this xdist worker's own range, never an ephemeral port that a proxy
    or live server of another worker could be handed between our check and gunicorn's bind."""
    return worker_port()


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def eventually(check, timeout: float = 60, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


@dataclass
class Clinic:
    """The running processes and the proxies in front of their services."""

    postgres: FaultProxy
    redis: FaultProxy
    rabbitmq: FaultProxy
    port: int
    queue: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        db = settings.DATABASES["default"]
        broker = f"amqp://{BROKER.username}:{BROKER.password}@127.0.0.1:{self.rabbitmq.port}//"
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{self.postgres.port}/{db['NAME']}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}{REDIS.path or '/15'}",
            "CELERY_BROKER_URL": broker,
            "CELERY_QUEUE": self.queue,
            "ALLOWED_HOSTS": "127.0.0.1",
            "MEDBOOK_PUBLIC_URL": self.url,
            "DATABASE_POOL_MIN_SIZE": "1",
            "DATABASE_POOL_MAX_SIZE": "4",
            # libpq's application_name: stop() waits for exactly these connections to go.
            "PGAPPNAME": self.app_name,
        }

    @property
    def app_name(self) -> str:
        return f"medbook-{self.queue}"

    def start(self, name: str, args: list[str], **extra_env: str) -> subprocess.Popen:
        folder = Path(os.environ.get("FAULT_LOG_DIR", ROOT / "test-results" / "faults"))
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f"{self.queue}-{name}.log"
        self.logs[name] = log
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.env(), **extra_env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_web(self, workers: int = 3, **extra_env: str) -> None:
        self.start(
            "web",
            [
                *(sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf"),
                *("medbook.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)),
                *("--timeout", "30", "--graceful-timeout", "5"),
            ],
            **extra_env,
        )
        wait_for_port(self.port)

    def start_worker(self, **extra_env: str) -> None:
        self.start(
            "worker",
            [
                *(sys.executable, "-m", "celery", "-A", "medbook", "worker"),
                *("--pool=prefork", "--concurrency=2", "-Q", self.queue, "--loglevel=INFO"),
                # A node name of its own: two workers named celery@<host> on one RabbitMQ (another
                # xdist worker's, another run's) fight over one exclusive pidbox queue.
                *("--hostname", f"{self.queue}@%h"),
                *("--without-heartbeat", "--without-gossip", "--without-mingle"),
            ],
            **extra_env,
        )

    def start_beat(self) -> None:
        self.start(
            "beat",
            [
                *(sys.executable, "-m", "celery", "-A", "medbook", "beat"),
                *("--loglevel=INFO", "--pidfile=", "--schedule", "/dev/null"),
            ],
        )

    def pool_children(self, name: str) -> list[int]:
        parent = self.processes[name].pid
        out = subprocess.run(
            ["/bin/ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill_children(self, name: str) -> int:
        killed = 0
        for pid in self.pool_children(name):
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        return killed

    def kill_one_child(self, name: str) -> int:
        children = self.pool_children(name)
        if not children:
            return 0
        try:
            os.kill(random.choice(children), signal.SIGKILL)
        except ProcessLookupError:
            return 0
        return 1

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        for proxy in (self.postgres, self.redis, self.rabbitmq):
            proxy.close()
        with Connection(BROKER.geturl(), connect_timeout=5) as broker:  # the test's own queue
            broker.default_channel.queue_delete(self.queue)
        # The test database is dropped at the end: wait until their connections are gone (theirs
        # only: the test process's own pool keeps idle connections, which once made this wait
        # its whole 15 s after every experiment).
        from django.db import connection

        def others() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [self.app_name],
                )
                return cursor.fetchone()[0]

        eventually(lambda: others() == 0, timeout=15, every=0.2)


def clinic_services() -> tuple[FaultProxy, FaultProxy, FaultProxy]:
    db = settings.DATABASES["default"]
    return (
        FaultProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))),
        FaultProxy((REDIS.hostname or "127.0.0.1", REDIS.port or 6379)),
        FaultProxy((BROKER.hostname or "127.0.0.1", BROKER.port or 5672)),
    )


def new_clinic() -> Clinic:
    postgres, redis, rabbitmq = clinic_services()
    return Clinic(postgres, redis, rabbitmq, free_port(), f"faults-{uuid.uuid4().hex[:8]}")


# -- a browser-like client -----------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


class Browser:
    """Cookies kept by hand (they are ``Secure``), every request marked as arriving over TLS."""

    def __init__(self, clinic: Clinic, *, timeout: float = 30) -> None:
        self.clinic = clinic
        self.cookies: dict[str, str] = {}
        self.timeout = timeout
        self.statuses: Counter[int] = Counter()

    def request(self, method: str, path: str, data: dict | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.clinic.port, self.timeout)
        origin = f"https://127.0.0.1:{self.clinic.port}"
        headers = {
            "Host": f"127.0.0.1:{self.clinic.port}",
            "X-Forwarded-Proto": "https",
            "Origin": origin,
            "Referer": origin + path,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            token = self.cookies.get("__Host-csrftoken", "")
            body = urlencode({"csrfmiddlewaretoken": token, **data})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = token
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        answer = Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            text,
            time.monotonic() - started,
        )
        self.statuses[answer.status] += 1
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None) -> Answer:
        if "__Host-csrftoken" not in self.cookies:
            self.get("/")  # its language form sets the CSRF cookie
        return self.request("POST", path, data or {})

    def log_in_as(self, user) -> None:
        """A session as a login creates it (written straight to the database)."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from medbook import middleware

        session = SessionStore()
        now = int(time.time())
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "medbook.backends.CachedModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[middleware.SESSION_KIND] = "member"
        session[middleware.SESSION_STARTED] = now
        session[middleware.SESSION_SEEN] = now
        session[middleware.SESSION_EPOCH] = user.session_epoch
        session.create()
        self.cookies["__Host-sessionid"] = session.session_key

    def log_in(self, phone: str, password: str) -> Answer:
        self.get("/accounts/login/")
        return self.post("/accounts/login/", {"login": phone, "password": password})
