"""The morning release (放号) over HTTP: N logged-in members book one session at the same instant.

One command; it prepares everything itself and fails (exit 1) when an invariant breaks:

    .venv/bin/python bench/release_http.py [--members 1000] [--capacity 30] [--releases 5]
                                           [--workers 3] [--quick] [--redis-fault flush|down]
                                           [--gunicorn ARGS] [--set NAME=VALUE] [--at REV]

1. Drops and creates the PostgreSQL database ``medbook_bench`` (127.0.0.1:5432, user postgres),
   migrates it, empties Redis database 6 and collects the static files; production settings from
   the environment: no DEBUG, secrets generated for the run, ``ALLOWED_HOSTS``, TLS assumed
   through ``X-Forwarded-Proto: https`` (so the ``__Host-`` cookies, HSTS and CSRF checks are
   the real ones), Celery on RabbitMQ (amqp://guest:guest@127.0.0.1:5672//) with a queue of the
   run's own that no worker reads and that is deleted at the end (the jobs a booking promises
   are published, never run), ``MEDBOOK_TRUSTED_PROXIES=127.0.0.1`` (the client plays the load
   balancer: each member comes from an address of their own in ``X-Forwarded-For``, as members
   do, so the per-address booking limit counts each member).
2. Seeds N members in bulk (one level, one department and doctor) and a real server-side session
   for each — what ``django.contrib.auth.login`` and MedBook's ``start_session`` write — with a
   CSRF cookie and the matching form field; nobody logs in through the password form.
3. Starts ``python -m gunicorn -c python:medbook.gunicorn_conf medbook.wsgi --workers W`` on a free
   port with ``DJANGO_SETTINGS_MODULE=bench.settings`` (MedBook's settings plus the textbook URL)
   and waits until it answers; a warm-up follows (every member's profile page once, 60 GETs of
   a booking page), outside the figures.
4. Per round (``--releases``, 5 by default), one after another with a second of quiet between:
   a. baseline: N concurrent ``GET /profile/``, one per member (the cheapest logged-in page);
   b. MedBook: a fresh session (capacity C, fee ¥50) created as a draft whose release time has
      just passed and opened by the release job (``release_due_schedules``: publish, clear the
      "sold out" hint) plus the preheat function, if the app has one by then; then N
      ``POST /book/<id>/`` at once; every winner is then followed to the cashier;
   c. textbook: the same on another fresh session through ``/bench/textbook/book/<id>/``
      (bench/textbook.py: lock the schedule row, check, insert appointment and order, +1).
   The client is one asyncio loop in this process (its CPU is measured and printed) that opens
   every connection first and then writes all the requests at once (aiohttp follows winners to
   the cashier, outside the figures).
5. Checks after every session; any failure exits 1: booked ≤ capacity and = the active
   appointments; no false "sold out" (a loser told so while the session ended with a free
   slot); no 5xx and no failed connection; queue numbers exactly 1..capacity; as many winners as
   appointments; every winner's cashier page answered 200; no other answer (429, another 409,
   another redirect); at the end ``manage.py check_integrity``, and every job
   the bookings promised handed to the broker (by the request, or by the outbox listener that
   runs beside gunicorn, ``manage.py listen_outbox``, when the code has one).

Outcomes of a booking POST: winner = 302 to the appointment's pay page (which redirects to the
cashier); loser = the page saying the session is fully booked: the 409 answer itself, or (the
release gate) a 302 back to the booking page, followed at once with its messages cookie, whose
page says so; 429; 5xx; no answer; other.

Definitions (per session; t0 = the moment the first request of the burst is sent):

* latency = from sending a request to having read its whole answer (queueing in the client, the
  kernel's listen queue and gunicorn included; for a loser answered with a redirect, until the
  page it leads to is read);
* winners/s = winners ÷ (last winner's answer − t0); losers/s = losers ÷ (last loser's answer −
  t0); baseline/s = answered GETs ÷ (last answer − t0);
* the summary's rates are the median over the rounds; its latencies (p50, p99: nearest rank)
  are over every request of that kind in all rounds;
* ratios: MedBook losers/s ÷ baseline/s, MedBook winners/s ÷ baseline/s, MedBook losers/s ÷
  textbook losers/s, textbook losers' p99 ÷ MedBook losers' p99 (losers are the many: what a
  popular release is for most members).

``--quick``: 200 members, 1 round (a smoke test; tests/test_release_http_bench.py runs it).
``--at REV``: measure commit REV's code (exported with ``git archive`` under var/bench/, run with
this bench's files), not a working tree that others are editing.
``--redis-fault flush`` empties Redis 150 ms (``--fault-after``) into each MedBook burst;
``--redis-fault down`` cuts the server off Redis then (through a proxy) until the burst ends:
PostgreSQL decides, the same checks must pass. ``--gunicorn '--worker-class gthread --threads 4'``
and ``--set DATABASE_POOL=false`` measure other server settings with the same rush.
``--database`` / ``--redis-db`` choose another database (the test uses its own). Any
``MEDBOOK_*`` variable set outside is passed on (e.g. ``MEDBOOK_SOLD_OUT_CACHE_SECONDS=0``) and
printed. Server log: ``var/bench/release_http-<time>/gunicorn.log``; its access lines carry the
time spent in the worker, which the script summarises (the rest of a latency is the wait to be
accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import html
import importlib
import inspect
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Celery's Django fix-up puts the working directory first on sys.path: it must be this tree
# (with --at, an export of another commit), not wherever the command was started.
os.chdir(ROOT)

HOST = "booking.bench.medbook.test"
ORIGIN = f"https://{HOST}"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
FEE = Decimal("50.00")
CSRF_FIELD = "csrfmiddlewaretoken"
SESSION_COOKIE = "__Host-sessionid"
CSRF_COOKIE = "__Host-csrftoken"
# gunicorn's default access line plus the time in the worker and the redirect's target.
ACCESS_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus "%({location}o)s"'
)
ACCESS_LINE = re.compile(
    r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d{3}) \S+ "[^"]*" "[^"]*" (\d+)us "([^"]*)"'
)
# Variables of the outside environment the run keeps (the rest of MedBook's are set here).
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ")


# -- environment -------------------------------------------------------------------------------


def run_environment(args: argparse.Namespace, port: int, queue: str) -> dict[str, str]:
    """Production settings for this run: every value MedBook reads, from here."""
    env = {key: os.environ[key] for key in PASSED_ON if key in os.environ}
    env.update({key: value for key, value in os.environ.items() if key.startswith("MEDBOOK_")})
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
            "CACHE_KEY_PREFIX": "medbook-bench",
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_QUEUE": queue,
            "DJANGO_DEBUG": "false",
            "MEDBOOK_DEV_SECRETS": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": ORIGIN,
            "MEDBOOK_TRUSTED_PROXIES": "127.0.0.1",
            "MEDBOOK_PUBLIC_URL": ORIGIN,
            "STATIC_ROOT": str(ROOT / "var" / "bench" / f"static-{args.database}"),
            "PGAPPNAME": f"medbook-{queue}",
        }
    )
    for setting in args.set:
        name, _, value = setting.partition("=")
        env[name] = value
    # Each member books once per round in each design: keep the per-member limit out of the way
    # only when more rounds than its default (10 a minute) would hit it.
    if 2 * args.releases >= 10 and "MEDBOOK_BOOKING_RATE_MEMBER" not in os.environ:
        env["MEDBOOK_BOOKING_RATE_MEMBER"] = f"{2 * args.releases + 2}/60"
    return env


def ensure_client() -> None:
    """aiohttp (bench/requirements.txt), installed into this venv when missing."""
    try:
        import aiohttp  # noqa: F401
    except ModuleNotFoundError:
        requirements = ROOT / "bench" / "requirements.txt"
        print(f"installing {requirements} into {sys.prefix}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "-r", str(requirements)], check=True
        )


def prepare_database(name: str) -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- seeding (in this process, with the run's settings) ----------------------------------------


@dataclass
class Visitor:
    """One logged-in member as the client sees them: cookies, CSRF field, address."""

    member_id: int
    session_key: str
    csrf: str
    address: str

    def headers(self, *, post: bool, referer: str = "/") -> dict[str, str]:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Cookie": f"{SESSION_COOKIE}={self.session_key}; {CSRF_COOKIE}={self.csrf}",
            "User-Agent": "medbook-bench/1",
        }
        if post:
            headers["Origin"] = ORIGIN
            headers["Referer"] = ORIGIN + referer
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers


def seed(count: int) -> tuple[list[Visitor], int]:
    """``count`` members with a session each; returns them and the bench doctor's id."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from appointments.choices import DoctorTitle
    from appointments.models import Department, Doctor
    from medbook import middleware
    from members.models import Member, MemberLevel, Patient, Relation, User

    level = MemberLevel.objects.create(
        level=1, name="普通会员", min_points=0, max_active_appointments=1000
    )
    department = Department.objects.create(code="bench", name="压测科室")
    doctor = Doctor.objects.create(
        name="压测医生", department=department, title=DoctorTitle.CHIEF, registration_fee=FEE
    )
    password = make_password(secrets.token_urlsafe(16))  # one real (slow) hash for all
    users = User.objects.bulk_create(
        [User(username=f"bench-{i:07d}", password=password) for i in range(count)],
        batch_size=1000,
    )
    members = Member.objects.bulk_create(
        [
            Member(
                user=user,
                name=f"压测会员{i}",
                phone=f"+86170{i:08d}",
                phone_verified=True,
                level=level,
            )
            for i, user in enumerate(users)
        ],
        batch_size=1000,
    )
    Patient.objects.bulk_create(  # every account is its holder's patient (本人), as sign-up makes
        [Patient(member=m, name=m.name, relation=Relation.SELF) for m in members],
        batch_size=1000,
    )
    now = int(time.time())
    engine = importlib.import_module(settings.SESSION_ENGINE)
    in_table = settings.SESSION_ENGINE.endswith((".db", ".cached_db"))
    store = engine.SessionStore()
    expires = timezone.now() + dt.timedelta(days=1)
    sessions, visitors = [], []
    for i, (user, member) in enumerate(zip(users, members, strict=True)):
        data = {
            "_auth_user_id": str(user.pk),
            # The members' backend (the last one) of the code measured, whatever its name.
            "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[-1],
            "_auth_user_hash": user.get_session_auth_hash(),
            middleware.SESSION_KIND: "member",
            middleware.SESSION_STARTED: now,
            middleware.SESSION_SEEN: now,
            middleware.SESSION_EPOCH: user.session_epoch,
        }
        if in_table:  # written in bulk; a cached_db engine fills its cache at first use
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            sessions.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expires)
            )
        else:
            one = engine.SessionStore()
            one.update(data)
            one.create()
            key = one.session_key
        address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        visitors.append(Visitor(member.pk, key, csrf, address))
    Session.objects.bulk_create(sessions, batch_size=1000)
    return visitors, doctor.pk


_dates_used = 0


def new_session(doctor_id: int, capacity: int) -> int:
    """A fresh session released now: a draft whose release time has just passed, opened by the
    release job and preheated as the app does at release. Returns its id."""
    from django.utils import timezone

    from appointments.models import Schedule
    from appointments.services import scheduling

    global _dates_used
    _dates_used += 1
    now = timezone.now()
    schedule = Schedule.objects.create(
        doctor_id=doctor_id,
        date=timezone.localdate(now) + dt.timedelta(days=_dates_used),
        session="morning",
        start_time=dt.time(8),
        end_time=dt.time(12),
        capacity=capacity,
        fee=FEE,
        status="draft",
        release_at=now - dt.timedelta(seconds=1),
    )
    scheduling.release_due_schedules(now=timezone.now())
    schedule.refresh_from_db()
    if schedule.status != "published":
        raise SystemExit(f"the release job did not publish session {schedule.pk}")
    preheat = find_preheat()
    if preheat is not None:
        call_with_schedule(preheat, schedule)
    return schedule.pk


_PREHEAT_MODULES = (
    "appointments.services.preheat",
    "appointments.services.gate",
    "appointments.services.release",
    "appointments.preheat",
    "appointments.gate",
    "appointments.services",
    "appointments.services.scheduling",
    "appointments.services.booking",
)


def find_preheat():
    """A function named ``preheat…`` in the appointments app (none when this was written)."""
    for name in _PREHEAT_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for attr in dir(module):
            if attr.startswith("preheat") and callable(getattr(module, attr)):
                return getattr(module, attr)
    return None


def release_steps() -> str:
    """What a release does here, in words, for the output."""
    from appointments.services import scheduling

    preheat = find_preheat()
    if preheat is None:
        return "the release job (publish, clear the sold-out hint); no preheat in appointments/"
    name = f"{preheat.__module__}.{preheat.__name__}"
    job = inspect.getsource(scheduling.release_due_schedules)
    by_job = "preheat" in job or "_preheat(" in job
    return f"the release job, then {name}" + (
        " (which the release job calls too)" if by_job else ""
    )


def call_with_schedule(function, schedule) -> None:
    params = inspect.signature(function).parameters
    from django.utils import timezone

    kwargs = {}
    for name in params:
        if name == "schedule":
            kwargs[name] = schedule
        elif name in ("schedule_id", "pk"):
            kwargs[name] = schedule.pk
        elif name in ("schedule_ids", "ids"):
            kwargs[name] = [schedule.pk]
        elif name == "now":
            kwargs[name] = timezone.now()
        elif name == "remaining":
            kwargs[name] = schedule.capacity - schedule.booked
        elif name == "ends_at":
            kwargs[name] = schedule.ends_at
    function(**kwargs)


# -- the server --------------------------------------------------------------------------------


class Server:
    def __init__(
        self, env: dict[str, str], port: int, workers: int, log: Path, extra: list[str]
    ) -> None:
        self.port = port
        self.log = log
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf"),
                *("medbook.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                *("--access-logformat", ACCESS_FORMAT),
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def mark(self) -> None:
        """What the log holds so far (start-up, warm-up) is left out of its figures."""
        self.offset = self.log.stat().st_size

    def times(self) -> dict[str, list[float]]:
        """Seconds each request spent in a worker (from the access log, after the mark), by
        kind: MedBook / textbook winner (302) or loser (409), baseline."""
        with self.log.open("rb") as fh:
            fh.seek(getattr(self, "offset", 0))
            text = fh.read().decode(errors="replace")
        kinds: dict[str, list[float]] = {}
        for method, path, status, micro, location in ACCESS_LINE.findall(text):
            answer = "winner" if location.endswith("/pay/") else status
            if method == "GET" and path == "/profile/":
                kind = "baseline"
            elif re.fullmatch(r"/book/\d+/", path):
                kind = f"MedBook {method} {answer}"
            elif method == "POST" and path.startswith("/bench/textbook/book/"):
                kind = f"textbook {method} {answer}"
            else:
                continue
            kinds.setdefault(kind, []).append(int(micro) / 1e6)
        return kinds

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["/bin/ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
        ).stdout
        return [int(pid) for pid in out.split()]

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's workers (user + system)."""
        total = 0.0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


class Listener:
    """The outbox listener (``manage.py listen_outbox``, which each Celery worker runs as a
    thread in production) beside gunicorn, when the code measured has one: it hands over the
    jobs an express booking promises, so its work counts in the machine's CPU as it would."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.process = None
        if (ROOT / "medbook" / "management" / "commands" / "listen_outbox.py").exists():
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "listen_outbox"],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def cpu_seconds(self) -> float:
        """CPU time the listener used so far (0 without one)."""
        if self.process is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def check_outbox(timeout: float = 15.0) -> list[str]:
    """Every job a booking promised was handed to the broker (by the request after its commit,
    or by the listener), within ``timeout`` seconds of the last burst."""
    from medbook.models import OutboxTask

    deadline = time.monotonic() + timeout
    while (unsent := OutboxTask.objects.filter(sent_at__isnull=True).count()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
    return [f"{unsent} promised jobs never handed to the broker"] if unsent else []


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy so far (all processes, all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# -- the client --------------------------------------------------------------------------------


@dataclass
class Result:
    status: int  # 0: no answer (connection failed, timed out)
    started: float
    ended: float
    outcome: str
    location: str = ""
    followed: bool = False  # the answer was a redirect back to the booking page, followed
    first: float = 0.0  # when the first answer (the redirect) was read

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Burst:
    name: str
    results: list[Result]
    client_cpu: float
    server_cpu: float
    machine_cpu: float
    wall: float
    schedule_id: int | None = None
    cashier: Counter = field(default_factory=Counter)

    @property
    def t0(self) -> float:
        return min(r.started for r in self.results)

    def of(self, outcome: str) -> list[Result]:
        return [r for r in self.results if r.outcome == outcome]

    def rate(self, outcome: str | None) -> float:
        chosen = self.results if outcome is None else self.of(outcome)
        chosen = [r for r in chosen if r.status]
        if not chosen:
            return 0.0
        return len(chosen) / max(1e-6, max(r.ended for r in chosen) - self.t0)


POST_ONLY = ("Origin", "Content-Type")


def local(address: str) -> str:
    """``https://host/path?q`` → ``/path?q`` (the server is reached by its local port)."""
    return re.sub(r"^https?://[^/]+", "", address)


def classify_booking(
    status: int, body: str, location: str, sold_out: str, followed: bool = False
) -> str:
    if status == 0:
        return "no answer"
    if status >= 500:
        return "5xx"
    if status == 302 and re.fullmatch(r"/appointments/\d+/pay/", location):
        return "winner"
    if sold_out in body and (status == 409 or (followed and status == 200)):
        return "loser"
    if status == 429:
        return "429"
    return f"other {status}"


async def fire(
    base: str,
    requests: list[tuple[str, str, dict[str, str], str | None]],
    classify,
    server: Server,
    fault: Fault | None = None,
) -> tuple[list[Result], float, float, float, float]:
    """Send every request at once (``fault`` strikes Redis meanwhile); returns the results and
    the client's, the server's and the machine's CPU seconds and the wall time.

    Every connection is opened first, as the members' browsers (or the load balancer in front
    of the web processes) hold theirs before the release; then the requests, written in
    advance, go out on all of them in one tight loop before any answer is read. So the burst
    measures the server: the client's own work during it is a write and a read per member,
    not opening a thousand connections (nor building a thousand requests) on the same two
    cores as the server just when the first requests are being served."""
    host, port = base.removeprefix("http://").split(":")
    gate = asyncio.Event()
    pending: list[dict] = []  # each connection's writer and request, written at the gate
    opened = 0
    all_open = asyncio.Event()

    async def exchange(reader, writer, data: bytes | None) -> tuple[int, str, str, str]:
        if data is not None:
            writer.write(data)
        answer = await reader.read()  # the server closes the connection after its answer
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
        location, cookies = "", []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "location":
                location = local(value.strip())
            elif name.lower() == "set-cookie":
                cookies.append(value.strip().split(";", 1)[0])
        return status, body.decode("utf-8", "replace"), location, "; ".join(cookies)

    async def one(method: str, path: str, headers: dict[str, str], data: str | None):
        nonlocal opened
        try:
            reader, writer = await asyncio.open_connection(host, int(port), limit=2**20)
        except OSError:
            reader = writer = None
        sent = {"writer": writer, "request": http_request(method, path, headers, data)}
        pending.append(sent)
        opened += 1
        if opened == len(requests):
            all_open.set()
        await gate.wait()
        started, followed, first = sent.get("at", time.perf_counter()), False, 0.0
        status, body, location = 0, "", ""
        if writer is not None:
            try:
                # Written by the loop below, all at once; here the answer is read.
                status, body, location, cookies = await exchange(reader, writer, None)
                first = time.perf_counter()
                if method == "POST" and status == 302 and location == path:
                    # Answered with a redirect back to the booking page, whose message says
                    # why (sold out, …): the member sees the answer once that page is read.
                    followed = True
                    again = {k: v for k, v in headers.items() if k not in POST_ONLY}
                    if cookies:
                        again["Cookie"] += "; " + cookies
                    reader, writer = await asyncio.open_connection(host, int(port))
                    status, body, _, _ = await exchange(
                        reader, writer, http_request("GET", location, again, None)
                    )
            except (OSError, ValueError, IndexError):
                status, body, location = 0, "", ""
        ended = time.perf_counter()
        outcome = classify(status, body, location, followed)
        return Result(status, started, ended, outcome, location, followed, first)

    tasks = [asyncio.ensure_future(one(*request)) for request in requests]
    await asyncio.wait_for(all_open.wait(), timeout=120)
    await asyncio.sleep(0.2)  # the server accepted what it will accept before the burst
    cpu, server_cpu, machine = time.process_time(), server.cpu_seconds(), machine_busy_seconds()
    began = time.perf_counter()
    for sent in pending:  # every request, in one tight loop, before any answer is read
        if sent["writer"] is not None:
            sent["at"] = time.perf_counter()
            sent["writer"].write(sent["request"])
    gate.set()
    if fault is not None:
        asyncio.get_running_loop().call_later(fault.after, fault.strike)
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
    wall = time.perf_counter() - began
    return (
        list(results),
        time.process_time() - cpu,
        server.cpu_seconds() - server_cpu,
        machine_busy_seconds() - machine,
        wall,
    )


def http_request(method: str, path: str, headers: dict[str, str], data: str | None) -> bytes:
    """One HTTP/1.1 request, as bytes, that asks the server to close the connection after."""
    body = (data or "").encode()
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    lines += ["Connection: close", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def burst(name, base, requests, classify, server, fault: Fault | None = None) -> Burst:
    results, client_cpu, server_cpu, machine_cpu, wall = asyncio.run(
        fire(base, requests, classify, server, fault)
    )
    if fault is not None:
        fault.heal()
    return Burst(name, results, client_cpu, server_cpu, machine_cpu, wall)


class Fault:
    """Redis struck in the middle of each MedBook burst, ``after`` seconds into it: ``flush``
    empties the run's Redis database (stock, marks, cached sessions and logins: all gone);
    ``down`` cuts every connection to it and refuses new ones (the server reaches Redis
    through a proxy here) until the burst is over. PostgreSQL must still decide exactly."""

    def __init__(self, kind: str, after: float, redis_url: str) -> None:
        self.kind, self.after, self.redis_url = kind, after, redis_url
        self.proxy = None
        if kind == "down":
            sys.path.insert(0, str(ROOT))
            from tests.faults.proxy import FaultProxy

            self.proxy = FaultProxy(("127.0.0.1", 6379))
        self.struck = 0

    def server_redis_url(self) -> str:
        if self.proxy is None:
            return self.redis_url
        return self.redis_url.replace(":6379/", f":{self.proxy.port}/")

    def strike(self) -> None:
        self.struck += 1
        if self.kind == "flush":
            empty_redis(self.redis_url)
        else:
            self.proxy.refuse()

    def heal(self) -> None:
        if self.proxy is not None:
            self.proxy.heal()


def follow_to_cashier(base: str, winners: list[tuple[Visitor, str]]) -> Counter:
    """GET each winner's pay page and the cashier it redirects to: the statuses reached."""

    async def run() -> Counter:
        import aiohttp

        reached: Counter = Counter()
        connector = aiohttp.TCPConnector(limit=50, force_close=True)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar()
        ) as client:

            async def one(visitor: Visitor, location: str) -> None:
                path, status = location, 0
                for _hop in range(3):
                    async with client.get(
                        base + path, headers=visitor.headers(post=False), allow_redirects=False
                    ) as response:
                        await response.read()
                        status = response.status
                        if status != 302:
                            break
                        path = local(response.headers["Location"])
                reached["cashier 200" if status == 200 and "/payments/" in path else status] += 1

            await asyncio.gather(*(one(v, loc) for v, loc in winners))
        return reached

    return asyncio.run(run())


# -- checks ------------------------------------------------------------------------------------


def check_session(b: Burst, capacity: int, members: int) -> list[str]:
    from appointments.choices import ACTIVE_STATUSES
    from appointments.models import Appointment, Schedule
    from billing.models import Order

    problems = []
    schedule = Schedule.objects.get(pk=b.schedule_id)
    active = Appointment.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES)
    count = active.count()
    numbers = sorted(active.values_list("queue_number", flat=True))
    winners, losers = len(b.of("winner")), len(b.of("loser"))
    if schedule.booked > schedule.capacity or count > schedule.capacity:
        problems.append(f"oversold: booked {schedule.booked}, {count} active, capacity {capacity}")
    if schedule.booked != count:
        problems.append(f"booked {schedule.booked} but {count} active appointments")
    if count < capacity and losers:
        problems.append(f"false sold out: {losers} told sold out, {capacity - count} slots free")
    if numbers != list(range(1, min(capacity, members) + 1)):
        problems.append(f"queue numbers {numbers} are not 1..{capacity}")
    if winners != count:
        problems.append(f"{winners} winners answered but {count} active appointments")
    orders = Order.objects.filter(appointment__in=active).count()
    if orders != count:
        problems.append(f"{count} appointments but {orders} orders")
    if b.cashier.get("cashier 200", 0) != winners:
        problems.append(f"winners reaching the cashier: {dict(b.cashier)} of {winners}")
    odd = Counter(r.outcome for r in b.results if r.outcome not in ("winner", "loser"))
    if odd:
        problems.append(f"unexpected answers: {dict(odd)}")
    return problems


def check_baseline(b: Burst) -> list[str]:
    odd = Counter(r.outcome for r in b.results if r.outcome != "ok")
    return [f"baseline answers other than 200: {dict(odd)}"] if odd else []


def check_integrity() -> list[str]:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    try:
        call_command("check_integrity", stdout=out)
    except CommandError as exc:
        return [f"check_integrity: {exc}: {out.getvalue().strip()}"]
    return []


# -- report ------------------------------------------------------------------------------------


def pct(values: list[float], share: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share * n)
    return ordered[min(len(ordered), rank) - 1] * 1000


def ms(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{pct(values, 0.5):,.0f} / {pct(values, 0.99):,.0f}"


def share(a: float, b: float) -> float:
    return a / b if b else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(name: str, bursts: list[Burst]) -> dict:
    results = [r for b in bursts for r in b.results]
    return {
        "name": name,
        "requests": len(results),
        "winners": sum(len(b.of("winner")) for b in bursts),
        "losers": sum(len(b.of("loser")) for b in bursts),
        "other": sum(len(b.results) - len(b.of("winner")) - len(b.of("loser")) for b in bursts),
        "winners_rate": median([b.rate("winner") for b in bursts]),
        "losers_rate": median([b.rate("loser") for b in bursts]),
        "winners_s": [r.seconds for r in results if r.outcome == "winner"],
        "losers_s": [r.seconds for r in results if r.outcome == "loser"],
        "all_s": [r.seconds for r in results],
        "client_cpu": sum(b.client_cpu for b in bursts),
        "server_cpu": sum(b.server_cpu for b in bursts),
        "machine_cpu": sum(b.machine_cpu for b in bursts),
        "wall": sum(b.wall for b in bursts),
    }


def report(
    args,
    commit: str,
    baseline: list[Burst],
    medbook: list[Burst],
    textbook: list[Burst],
    in_worker: dict[str, list[float]],
) -> None:
    base_rate = median([b.rate(None) for b in baseline])
    base_s = [r.seconds for b in baseline for r in b.results]
    mb, tb = summarise("MedBook", medbook), summarise("textbook", textbook)
    print()
    print(
        f"commit {commit}; {args.members} members, capacity {args.capacity}, "
        f"{args.releases} round(s), gunicorn {args.workers} workers {args.gunicorn or '(sync)'}"
        f"{''.join(f', {x}' for x in args.set)}; "
        f"{os.cpu_count()} cores, load average before {args.load_before}, after "
        f"{Path('/proc/loadavg').read_text().split()[0]}"
    )
    print()
    print(
        "| design | requests | winners | losers | other | winners/s | losers/s | baseline/s "
        "| winners p50 / p99 ms | losers p50 / p99 ms | all p50 / p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in (mb, tb):
        print(
            f"| {s['name']} | {s['requests']:,} | {s['winners']} | {s['losers']:,} | "
            f"{s['other']} | {s['winners_rate']:,.0f} | {s['losers_rate']:,.0f} | — | "
            f"{ms(s['winners_s'])} | {ms(s['losers_s'])} | {ms(s['all_s'])} |"
        )
    print(
        f"| baseline `GET /profile/` | {len(base_s):,} | — | — | "
        f"{sum(len(b.results) - len(b.of('ok')) for b in baseline)} | — | — | "
        f"{base_rate:,.0f} | — | — | {ms(base_s)} |"
    )
    print()
    ratios = [
        ("MedBook losers/s ÷ baseline/s", share(mb["losers_rate"], base_rate), "≥ 1.0"),
        ("MedBook winners/s ÷ baseline/s", share(mb["winners_rate"], base_rate), "≥ 0.5"),
        (
            "MedBook losers/s ÷ textbook losers/s",
            share(mb["losers_rate"], tb["losers_rate"]),
            "≥ 2",
        ),
        (
            "textbook losers p99 ÷ MedBook losers p99",
            share(pct(tb["losers_s"], 0.99), pct(mb["losers_s"], 0.99)),
            "≥ 2",
        ),
    ]
    print("| ratio | measured | target |")
    print("|---|---|---|")
    for label, value, target in ratios:
        print(f"| {label} | {value:.2f}× | {target} |")
    print()
    print("per round (rates/s: baseline, MedBook winners / losers, textbook winners / losers):")
    for i, (b, m, t) in enumerate(zip(baseline, medbook, textbook, strict=True), 1):
        print(
            f"  {i}: {b.rate(None):6.0f}   {m.rate('winner'):5.0f} / {m.rate('loser'):5.0f}   "
            f"{t.rate('winner'):5.0f} / {t.rate('loser'):5.0f}   "
            f"(bursts {b.wall:.2f} / {m.wall:.2f} / {t.wall:.2f} s)"
        )
    print(
        "time in a gunicorn worker by request (access log; the rest of a latency is the wait "
        "to be accepted), count and p50 / p99 ms:"
    )
    for kind in sorted(in_worker):
        print(f"  {kind}: {len(in_worker[kind]):,}, {ms(in_worker[kind])}")
    redirected = [r.first - r.started for b in medbook for r in b.results if r.followed]
    if redirected:
        print(
            f"MedBook answers that were a redirect back to the booking page (its page says "
            f"why), followed at once and counted with that GET: {len(redirected):,}; the "
            f"redirect alone took p50 / p99 {ms(redirected)} ms"
        )
    every = [*baseline, *medbook, *textbook]
    wall = sum(b.wall for b in every)
    client = sum(b.client_cpu for b in every)
    server = sum(b.server_cpu for b in every)
    machine = sum(b.machine_cpu for b in every)
    print(
        f"CPU during the bursts ({wall:.1f} s of wall time, {os.cpu_count()} cores): client "
        f"{client:.1f} s ({100 * client / wall:.0f}% of one core), gunicorn workers "
        f"{server:.1f} s, whole machine {machine:.1f} s "
        f"({100 * machine / (wall * (os.cpu_count() or 1)):.0f}% of all cores)"
    )
    shares = []
    for name, bursts in (("baseline", baseline), ("MedBook", medbook), ("textbook", textbook)):
        answered = sum(len(b.results) for b in bursts)
        if answered:
            busy = sum(b.machine_cpu for b in bursts) / answered * 1000
            busy_share = (
                100
                * sum(b.machine_cpu for b in bursts)
                / sum(b.wall * (os.cpu_count() or 1) for b in bursts)
            )
            shares.append(f"{name} {busy:.1f} ms ({busy_share:.0f}% busy)")
    print("whole machine's CPU per request, by burst: " + ", ".join(shares))


# -- main --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=30)
    parser.add_argument("--releases", type=int, default=5, help="rounds (sessions per design)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--quick", action="store_true", help="200 members, 1 round")
    parser.add_argument(
        "--gunicorn",
        default="",
        metavar="ARGS",
        help="more gunicorn arguments, e.g. '--worker-class gthread --threads 4'",
    )
    parser.add_argument(
        "--redis-fault",
        choices=["flush", "down"],
        help="strike Redis in the middle of each MedBook burst: empty it, or cut it off until "
        "the burst is over",
    )
    parser.add_argument(
        "--fault-after", type=int, default=150, metavar="MS", help="when the fault strikes"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server's environment, e.g. DATABASE_POOL=false (repeatable)",
    )
    parser.add_argument("--database", default="medbook_bench")
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument(
        "--at",
        metavar="REV",
        help="measure commit REV (exported with git archive under var/bench/), not the "
        "working tree with whatever is being edited in it",
    )
    args = parser.parse_args()
    if args.quick:
        args.members, args.releases = 200, 1
    if args.members < args.capacity:
        parser.error("--members must be at least --capacity (a release that sells out)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.log_dir = ROOT / "var" / "bench" / f"release_http-{stamp}-{os.getpid()}"
    args.log_dir.mkdir(parents=True, exist_ok=True)
    args.load_before = Path("/proc/loadavg").read_text().split()[0]
    return args


def run_at(rev: str) -> NoReturn:
    """Run this benchmark from a clean export of ``rev`` (same venv, same arguments)."""
    commit = git("rev-parse", "--short", rev)
    if not commit:
        raise SystemExit(f"--at {rev}: no such commit")
    tree = ROOT / "var" / "bench" / f"src-{commit}"
    if not (tree / "manage.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        (tree / "bench").mkdir(exist_ok=True)
        archive = subprocess.run(
            [shutil.which("git") or "/usr/bin/git", "archive", commit],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["/bin/tar", "-x", "-C", str(tree)], input=archive, check=True)
    # The measuring code is this one; the measured code is the commit's.
    for name in ("release_http.py", "settings.py", "urls.py", "textbook.py", "requirements.txt"):
        shutil.copy2(ROOT / "bench" / name, tree / "bench" / name)
    argv = [a for a in sys.argv[1:] if a != "--at" and a != rev and not a.startswith("--at=")]
    script = tree / "bench" / "release_http.py"
    print(f"measuring {commit} from {tree}", flush=True)
    run = subprocess.run([sys.executable, str(script), *argv], cwd=tree, check=False)
    sys.exit(run.returncode)


def main() -> int:
    args = parse_args()
    if args.at:
        run_at(args.at)
    ensure_client()
    port, queue = free_port(), f"bench-http-{uuid.uuid4().hex[:8]}"
    passed = {k: v for k, v in os.environ.items() if k.startswith("MEDBOOK_")}
    env = run_environment(args, port, queue)
    for key in [k for k in os.environ if k not in PASSED_ON]:
        del os.environ[key]
    os.environ.update(env)
    if (ROOT / ".git").exists():
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
        if changed:
            names = ", ".join(line.split(maxsplit=1)[-1] for line in changed)
            commit += f" + uncommitted changes to {names}"
    else:  # an export made by --at
        commit = ROOT.name.removeprefix("src-")
    began = time.perf_counter()
    print(f"database {args.database}, Redis db {args.redis_db}, queue {queue}, log {args.log_dir}")
    if passed:
        print(f"settings passed on from the environment: {passed}")

    prepare_database(args.database)
    empty_redis(env["REDIS_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    from appointments import exceptions as appointment_errors

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    visitors, doctor_id = seed(args.members)
    with translation.override("zh-hans"):
        sold_out = html.escape(str(appointment_errors.SoldOut()))
    print(f"prepared in {time.perf_counter() - began:.1f} s; at release: {release_steps()}")

    fault = None
    if args.redis_fault:
        fault = Fault(args.redis_fault, args.fault_after / 1000, env["REDIS_URL"])
        env = {**env, "REDIS_URL": fault.server_redis_url()}
        print(f"Redis {args.redis_fault} {args.fault_after} ms into each MedBook burst")
    server = Server(
        env, port, args.workers, args.log_dir / "gunicorn.log", shlex.split(args.gunicorn)
    )
    listener = Listener(env, args.log_dir / "listener.log")
    base = f"http://127.0.0.1:{port}"
    problems: list[str] = []
    baseline, medbook, textbook = [], [], []
    try:
        wait_until_serving(base, server)
        warm_up(base, visitors, server, new_session(doctor_id, args.capacity))
        server.mark()
        for round_ in range(1, args.releases + 1):
            b = burst(
                "baseline",
                base,
                [("GET", "/profile/", v.headers(post=False), None) for v in visitors],
                lambda status, body, location, followed: "ok" if status == 200 else str(status),
                server,
            )
            problems += [f"round {round_}: {p}" for p in check_baseline(b)]
            baseline.append(b)
            time.sleep(1)
            for design, path, bursts in (
                ("MedBook", "/book/{}/", medbook),
                ("textbook", "/bench/textbook/book/{}/", textbook),
            ):
                schedule_id = new_session(doctor_id, args.capacity)
                url = path.format(schedule_id)
                requests = [
                    ("POST", url, v.headers(post=True, referer=url), f"{CSRF_FIELD}={v.csrf}")
                    for v in visitors
                ]
                b = burst(
                    design,
                    base,
                    requests,
                    lambda status, body, location, followed: classify_booking(
                        status, body, location, sold_out, followed
                    ),
                    server,
                    fault if design == "MedBook" else None,
                )
                b.schedule_id = schedule_id
                winners = [
                    (v, r.location)
                    for v, r in zip(visitors, b.results, strict=True)
                    if r.outcome == "winner"
                ]
                b.cashier = follow_to_cashier(base, winners)
                found = check_session(b, args.capacity, args.members)
                problems += [f"round {round_}, {design}: {p}" for p in found]
                bursts.append(b)
                print(
                    f"round {round_} {design}: {len(b.of('winner'))} winners, "
                    f"{len(b.of('loser'))} losers in {b.wall:.2f} s; baseline before "
                    f"{baseline[-1].rate(None):.0f}/s" + (f"; PROBLEMS {found}" if found else ""),
                    flush=True,
                )
                time.sleep(1)
        problems += check_integrity()
        problems += check_outbox()
        if listener.process is not None:
            print(f"outbox listener: {listener.cpu_seconds():.1f} s of CPU in all")
    finally:
        server.stop()
        listener.stop()
        delete_queue(queue)
    problems += scan_log(server.log)
    report(args, commit, baseline, medbook, textbook, server.times())
    print(f"total {time.perf_counter() - began:.0f} s; server log {server.log}")
    if problems:
        print("\nBROKEN:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(
        "checks: nothing oversold, no false sold out, no 5xx, queue numbers 1..capacity, "
        "every winner at the cashier, check_integrity clean"
    )
    return 0


def git(*args: str) -> str:
    return subprocess.run(
        [shutil.which("git") or "/usr/bin/git", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def wait_until_serving(base: str, server: Server, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1:<port>, ours)
        base + "/accounts/login/", headers={"Host": HOST, "X-Forwarded-Proto": "https"}
    )
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.process.returncode}: see {server.log}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s: see {server.log}")


def warm_up(base: str, visitors: list[Visitor], server: Server, schedule_id: int) -> None:
    """Every worker imports its code and compiles the templates before anything is measured:
    the profile page of every member (sessions read once, as on any morning) and a booking
    page (GET) of a session nobody books."""
    for path, sample in (
        ("/profile/", visitors),
        (f"/book/{schedule_id}/", visitors[: min(60, len(visitors))]),
    ):
        b = burst(
            "warm-up",
            base,
            [("GET", path, v.headers(post=False), None) for v in sample],
            lambda status, body, location, followed: "ok" if status == 200 else str(status),
            server,
        )
        if len(b.of("ok")) != len(sample):
            raise SystemExit(
                f"warm-up {path}: {Counter(r.outcome for r in b.results)}: see {server.log}"
            )


def delete_queue(queue: str) -> None:
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as broker:
            broker.default_channel.queue_delete(queue)
    except Exception as exc:  # the queue may not exist (nothing published)
        print(f"(queue {queue} not deleted: {exc})")


def scan_log(log: Path) -> list[str]:
    """Tracebacks and 5xx in the server's log (the access log says every status)."""
    text = log.read_text(errors="replace")
    problems = []
    tracebacks = text.count("Traceback (most recent call last)")
    if tracebacks:
        problems.append(f"{tracebacks} traceback(s) in {log}")
    errors = len(re.findall(r'" 5\d\d ', text))
    if errors:
        problems.append(f"{errors} 5xx in the access log")
    return problems


if __name__ == "__main__":
    sys.exit(main())
