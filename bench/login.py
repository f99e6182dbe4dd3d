"""Member login and sign-up over HTTP (issue 16, point 8): p50 / p95 / max of each POST.

    flock /tmp/bench.lock .venv/bin/python bench/login.py [--members 200] [--clients C] \
        [--database medbook_login_bench] [--redis-db 8]

Heavy (it hashes passwords on purpose): run it under the machine's benchmark lock.

1. Drops and creates the PostgreSQL database ``medbook_login_bench`` (or ``--database``) as a
   copy of ``<database>_template`` (kept between runs and migrated first; rebuilt when its
   migrations no longer apply), empties Redis database 8 (``--redis-db``) and collects the
   static files. Production settings from the environment: no DEBUG, secrets generated for the run,
   ``ALLOWED_HOSTS``, TLS through the trusted ``X-Forwarded-Proto: https`` (so the ``__Host-``
   cookies and the CSRF checks are the real ones), Celery on RabbitMQ with a queue of the run's
   own that nothing reads (deleted at the end), the SMS backend that logs each text (the script
   reads the codes from the server's log, as a tester would), and
   ``MEDBOOK_TRUSTED_PROXIES=127.0.0.1``: the client plays the load balancer and each member
   comes from an address of their own in ``X-Forwarded-For`` — the per-address limits (allauth's
   ``login`` 30/min, ``signup`` 20/h, ``verify_phone`` 30/h) count each visitor as configured,
   none is raised.
2. Creates ``--members`` members (200), and one per web worker for the warm-up, through
   ``members.services.register_member`` with a password, i.e. hashed with the configured
   hasher (Argon2id, medbook/hashers.py).
3. Starts gunicorn (``-c python:medbook.gunicorn_conf``: its default sync workers, cores + 1)
   on a free port and warms every worker up (a login and a sign-up each, with members and
   numbers of their own, outside the figures).
4. Measures, first one after the other, then with ``--clients`` concurrent clients (default:
   the web workers' count):
   a. member login: GET the login page (CSRF cookie and token), POST number + password, follow
      the redirect to the home page; the POST alone is timed. Each login is a different member
      (half of them one after the other, the other half concurrently);
   b. sign-up: GET the sign-up page, POST name + number + password twice (creates the account
      and texts the code: timed), read the code from the log, POST it to the phone verification
      page (timed: confirms the number and logs in), follow to the home page. Each sign-up a new
      number (``--members`` ÷ 2 per phase).
   Latency: from sending the request to having read the whole answer (urllib, same machine).
5. Prints a table of p50 / p95 / max per step and phase and the machine's load; exits 1 on any
   unexpected answer (a login not redirected to the home page, a 429, a 5xx, a code not texted,
   a traceback in the server's log).

Target (issue 16): p95 < 300 ms for member login and the sign-up submit on this machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ORIGIN = f"https://{HOST}"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TZ", "WEB_CONCURRENCY")
PASSWORD = "Lantern-harbour-2026"  # noqa: S105  (the bench members')
# Members' numbers +86 139 NNNN NNNN, sign-ups' +86 137 …: distinct last four digits, which the
# masked number in the SMS log keeps (139****0042).
MEMBER_PHONE = "+86139{:08d}"
SIGNUP_PHONE = "+86137{:08d}"
SMS_LINE = re.compile(r"SMS to (\d{3})\*+(\d{4}): .*?(\d{6})")


def workers_default() -> int:
    """What medbook.gunicorn_conf starts: WEB_CONCURRENCY or cores + 1."""
    return int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))


def environment(database: str, redis_db: int, queue_name: str, var: Path) -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_ON if key in os.environ}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "medbook.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "CACHE_KEY_PREFIX": "medbook-login-bench",
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_QUEUE": queue_name,
            "DJANGO_DEBUG": "false",
            "MEDBOOK_DEV_SECRETS": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": ORIGIN,
            "MEDBOOK_TRUSTED_PROXIES": HOST,
            "MEDBOOK_PUBLIC_URL": ORIGIN,
            "MEDBOOK_SMS_BACKEND": "members.sms.LogSMSBackend",
            "LOG_LEVEL": "INFO",
            "STATIC_ROOT": str(var / "static"),
            "PGAPPNAME": f"medbook-{queue_name}",
        }
    )
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )
    return done.stdout or ""


def migrated_template(env: dict[str, str], template: str) -> None:
    """``template`` (a database of its own, kept between runs) migrated to this tree's
    migrations; built again from nothing when they no longer apply to it (a migration renamed
    or rechained since)."""
    import psycopg

    template_env = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{template}"}
    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            conn.execute(f'CREATE DATABASE "{template}"')
    try:
        manage(template_env, "migrate", "--noinput", "-v", "0")
    except subprocess.CalledProcessError:
        print(f"{template}: migrating from nothing", flush=True)
        with psycopg.connect(f"host={HOST} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}"')
        manage(template_env, "migrate", "--noinput", "-v", "0")


def prepare(env: dict[str, str], database: str, redis_db: int, members: int) -> None:
    """A fresh database (a copy of the migrated template) and Redis database with ``members``
    members (the measured ones, then the warm-up's)."""
    import psycopg
    import redis

    began = time.monotonic()
    template = f"{database}_template"
    migrated_template(env, template)
    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}").flushdb()
    manage(env, "collectstatic", "--noinput", "-v", "0")
    print(f"migrated and static files collected in {time.monotonic() - began:.1f} s", flush=True)
    began = time.monotonic()
    script = (
        "from members.models import MemberLevel\n"
        "from members.services import register_member\n"
        "if not MemberLevel.objects.exists():\n"
        "    MemberLevel.objects.create(level=1, name='普通会员')\n"
        f"for i in range({members}):\n"
        f"    register_member(name=f'会员{{i}}', phone={MEMBER_PHONE!r}.format(i),\n"
        f"                    password={PASSWORD!r}, phone_verified=True)\n"
        "from django.contrib.auth.hashers import make_password\n"
        "print(make_password('x').rsplit('$', 2)[0])\n"
    )
    hasher = manage(env, "shell", "-c", script, capture=True).strip().splitlines()[-1]
    print(f"{members} members created in {time.monotonic() - began:.1f} s ({hasher})", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Unexpected(Exception):
    pass


@dataclass
class Browser:
    """One visitor: its cookies (``__Host-`` cookies are ``Secure``, which a cookie jar would
    not send over the plain connection to gunicorn) and its address."""

    base: str
    address: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None):
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Accept-Language": "zh-hans",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = ORIGIN
            headers["Referer"] = ORIGIN + path
        request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1:<port>, ours)
            self.base + path, data=data, headers=headers, method=method
        )
        began = time.perf_counter()
        try:
            with _OPENER.open(request, timeout=60) as response:
                body, status, answer = response.read(), response.status, response.headers
        except urllib.error.HTTPError as error:
            body, status, answer = error.read(), error.code, error.headers
        ms = (time.perf_counter() - began) * 1000
        for line in answer.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=Thu, 01 Jan 1970" in line or "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return status, answer.get("Location", ""), body.decode(errors="replace"), ms

    def page_token(self, path: str) -> str:
        status, _, body, _ = self.request("GET", path)
        if status != 200:
            raise Unexpected(f"GET {path}: {status}")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not match:
            raise Unexpected(f"GET {path}: no CSRF token")
        return match.group(1)

    def follow(self, location: str, what: str) -> None:
        path = urllib.parse.urlsplit(location).path or "/"
        status, _, _, _ = self.request("GET", path)
        if status != 200:
            raise Unexpected(f"{what}: the page after it answered {status}")


def login(base: str, index: int) -> dict[str, float]:
    browser = Browser(base, visitor_address(index))
    token = browser.page_token("/accounts/login/")
    form = {"csrfmiddlewaretoken": token, "login": MEMBER_PHONE.format(index)[3:]}
    form["password"] = PASSWORD
    status, location, _, ms = browser.request("POST", "/accounts/login/", form)
    if status != 302 or location != "/":
        raise Unexpected(f"login of member {index}: {status} to {location!r}")
    browser.follow(location, f"login of member {index}")
    return {"login POST": ms}


class CodeReader:
    """The codes the server logged (members.sms.LogSMSBackend), by the number's last digits."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0
        self.codes: dict[str, str] = {}
        self.lock = threading.Lock()

    def code(self, phone: str, timeout: float = 10) -> str:
        key = phone[3:6] + phone[-4:]
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                with self.log.open("rb") as fh:
                    fh.seek(self.offset)
                    chunk = fh.read()
                end = chunk.rfind(b"\n") + 1
                self.offset += end
                for line in chunk[:end].decode(errors="replace").splitlines():
                    match = SMS_LINE.search(line)
                    if match:
                        self.codes[match.group(1) + match.group(2)] = match.group(3)
                if key in self.codes:
                    return self.codes.pop(key)
            if time.monotonic() > deadline:
                raise Unexpected(f"no code texted to {phone[:6]}…{phone[-4:]}")
            time.sleep(0.02)


def signup(base: str, index: int, codes: CodeReader) -> dict[str, float]:
    phone = SIGNUP_PHONE.format(index)
    browser = Browser(base, visitor_address(10_000 + index))
    token = browser.page_token("/accounts/signup/")
    form = {"csrfmiddlewaretoken": token, "name": f"新会员{index}", "phone": phone[3:]}
    form.update(password1=PASSWORD, password2=PASSWORD, accept_terms="on", accept_privacy="on")
    status, location, _, submit_ms = browser.request("POST", "/accounts/signup/", form)
    if status != 302 or location != "/accounts/phone/verify/":
        raise Unexpected(f"sign-up {index}: {status} to {location!r}")
    token = browser.page_token(location)
    code = codes.code(phone)
    form = {"csrfmiddlewaretoken": token, "code": code}
    status, location, _, confirm_ms = browser.request("POST", "/accounts/phone/verify/", form)
    if status != 302 or location != "/":
        raise Unexpected(f"sign-up {index}, code: {status} to {location!r}")
    browser.follow(location, f"sign-up {index}")
    return {"sign-up POST": submit_ms, "code POST": confirm_ms}


def visitor_address(index: int) -> str:
    """An address of its own per visitor (documentation range 198.18.0.0/15)."""
    return f"198.18.{index // 250}.{index % 250 + 1}"


def run(jobs: list, clients: int) -> tuple[dict[str, list[float]], list[str], float]:
    """Run the jobs with ``clients`` threads; times by step, failures, wall time."""
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    times: dict[str, list[float]] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                return
            try:
                result = job()
            except (Unexpected, OSError) as exc:
                with lock:
                    failures.append(str(exc))
                continue
            with lock:
                for step, ms in result.items():
                    times.setdefault(step, []).append(ms)

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, failures, time.perf_counter() - began


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def delete_queue(name: str) -> None:
    from kombu import Connection

    try:
        with Connection(BROKER_URL, connect_timeout=5) as broker:
            broker.default_channel.queue_delete(name)
    except Exception as exc:  # nothing published: no queue
        print(f"(queue {name} not deleted: {exc})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200, help="members created (200)")
    parser.add_argument(
        "--clients", type=int, default=workers_default(), help="concurrent clients (workers)"
    )
    parser.add_argument("--database", default="medbook_login_bench")
    parser.add_argument("--redis-db", type=int, default=8)
    args = parser.parse_args()
    half = args.members // 2
    if half < 2:
        parser.error("--members: at least 4")
    queue_name = f"loginbench-{secrets.token_hex(4)}"
    var = ROOT / "var" / f"bench-{args.database}"
    var.mkdir(parents=True, exist_ok=True)
    env = environment(args.database, args.redis_db, queue_name, var)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"commit {commit or '?'}, load {load()} at start", flush=True)
    workers = workers_default()
    prepare(env, args.database, args.redis_db, args.members + workers)
    port = free_port()
    log = var / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf",
             "--bind", f"{HOST}:{port}", "medbook.wsgi"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://{HOST}:{port}"
    codes = CodeReader(log)
    failures: list[str] = []
    rows: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                Browser(base, HOST).request("GET", "/accounts/login/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"gunicorn did not start: see {log}") from None
                time.sleep(0.3)
        # Warm-up (every worker imports and compiles its templates): members and numbers of
        # their own, outside the figures.
        warm = [lambda i=i: login(base, args.members + i) for i in range(workers)]
        warm += [lambda i=i: signup(base, 9_000 + i, codes) for i in range(workers)]
        _, warm_failures, _ = run(warm, workers)
        failures += [f"warm-up: {f}" for f in warm_failures]
        phases = [
            ("one after the other", 1, range(half), range(half)),
            (f"{args.clients} concurrent", args.clients, range(half, 2 * half),
             range(half, 2 * half)),
        ]  # fmt: skip
        for phase, clients, members, numbers in phases:
            before = load()
            times, phase_failures, wall = run(
                [lambda i=i: login(base, i) for i in members], clients
            )
            signup_times, signup_failures, signup_wall = run(
                [lambda i=i: signup(base, i, codes) for i in numbers], clients
            )
            times.update(signup_times)
            failures += [f"{phase}: {f}" for f in phase_failures + signup_failures]
            for step in ("login POST", "sign-up POST", "code POST"):
                values = times.get(step, [])
                if not values:
                    rows.append(f"| {phase} | {step} | 0 | — | — | — | {before} |")
                    continue
                per_s = len(values) / (wall if step == "login POST" else signup_wall)
                rows.append(
                    f"| {phase} | {step} | {len(values)} | {pct(values, 0.5):.0f} ms | "
                    f"{pct(values, 0.95):.0f} ms | {max(values):.0f} ms | {per_s:.1f} | "
                    f"{before} |"
                )
            print(f"{phase} done (load {load()})", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        delete_queue(queue_name)
    text = log.read_text(errors="replace")
    tracebacks = text.count("Traceback (most recent call last)")
    if tracebacks:
        failures.append(f"{tracebacks} traceback(s) in {log}")
    print(f"\ncommit {commit or '?'}, {args.members} members, {workers} gunicorn workers")
    print("\n| phase | step | requests | p50 | p95 | max | flows/s | load before (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nload at the end: {load()}")
    for failure in failures[:20]:
        print(f"FAILED: {failure}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} failure(s); server log: {log}", file=sys.stderr)
        return 1
    print(json.dumps({"result": "ok"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
