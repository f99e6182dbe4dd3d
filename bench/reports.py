"""Time the reports' dashboards over HTTP on a big demo clinic.

    flock /tmp/bench.lock .venv/bin/python bench/reports.py [--members 100000] \
        [--appointments 1000000] [--requests 40] [--reseed] [--database NAME] \
        [--redis URL | --redis-db N] [--only bookings|noshows|revenue|releases|flow ...]

Heavy: run it under the machine's benchmark lock. The first run (or ``--reseed``) creates the
database ``medbook_reports_bench`` (or ``--database``) and loads ``seed_demo --members M
--appointments N`` into it, which also builds the reports' rollups; later runs reuse it (after a
migration of the rollups, run ``migrate`` and ``rebuild_reports`` on it first). gunicorn serves
MedBook with production settings (no DEBUG, HTTPS behind a trusted proxy header, Redis db 7 for
the cache and sessions, or ``--redis-db``) and its default workers; a finance login gets a real
server-side session. Each dashboard and range is requested once to warm up, then ``--requests``
times one after the other (``--only``: these dashboards alone); the table gives p50 / p95 /
max from send to the last byte read (Python's urllib on the same machine). It exits 1 on any
answer but 200.

Targets (issue 13): p95 ≤ 300 ms for 30 days and ≤ 1 s for a year, at 1M appointments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "medbook_reports_bench"  # --database changes it
REDIS_URL = "redis://127.0.0.1:6379/7"  # --redis (or --redis-db) changes it
HOST = "127.0.0.1"
VAR = ROOT / "var" / "bench-reports"
DASHBOARDS = {
    "bookings": "/staff/reports/bookings/",
    "noshows": "/staff/reports/no-shows/",
    "revenue": "/staff/reports/revenue/",
    "releases": "/staff/reports/releases/",
    "flow": "/staff/reports/flow/",
    "members": "/staff/reports/members/",
}


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "TZ")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "medbook.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": "medbook-reports-bench",
            "CELERY_QUEUE": "reports-bench",
            "DJANGO_DEBUG": "false",
            # Keys kept under var/bench-reports/ so that the seeded rows stay readable.
            "MEDBOOK_DEV_SECRETS": "true",
            "MEDBOOK_VAR_DIR": str(VAR),
            "ALLOWED_HOSTS": HOST,
            "MEDBOOK_TRUSTED_PROXIES": "127.0.0.1",
            "STATIC_ROOT": str(VAR / "static"),
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(env: dict[str, str], members: int, appointments: int) -> None:
    import psycopg

    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    began = time.monotonic()
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--members", str(members), "--appointments", str(appointments))
    print(f"seeded in {time.monotonic() - began:.0f} s", flush=True)


def database_exists() -> bool:
    import psycopg

    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres") as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
    return row is not None


def finance_session(env: dict[str, str]) -> tuple[str, dt.date]:
    """A finance login with a server-side session (as after password and code); the session's
    key and the clinic's date."""
    script = (
        "import json, time\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.auth.models import Group\n"
        "from django.contrib.sessions.backends.cached_db import SessionStore\n"
        "from django.utils import timezone\n"
        "from allauth.mfa.models import Authenticator\n"
        "from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret\n"
        "from medbook import middleware\n"
        "from medbook.roles import FINANCE\n"
        "from members.models import User\n"
        "user, _ = User.objects.get_or_create(username='bench-finance')\n"
        "user.groups.set([Group.objects.get(name=FINANCE)])\n"
        "if not Authenticator.objects.filter(user=user).exists():\n"
        "    TOTP.activate(user, generate_totp_secret())\n"
        "from django.conf import settings\n"
        "s = SessionStore()\n"
        "now = int(time.time())\n"
        "s.update({SESSION_KEY: str(user.pk),\n"
        "  BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],\n"
        "  HASH_SESSION_KEY: user.get_session_auth_hash(), middleware.SESSION_KIND: 'staff',\n"
        "  middleware.SESSION_STARTED: now, middleware.SESSION_SEEN: now,\n"
        "  middleware.SESSION_EPOCH: user.session_epoch})\n"
        "s.create()\n"
        "print(json.dumps([s.session_key, timezone.localdate().isoformat()]))\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key, today = json.loads(out.strip().splitlines()[-1])
    return key, dt.date.fromisoformat(today)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(base: str, path: str, session: str) -> tuple[int, float, int]:
    request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1:<port>, ours)
        base + path,
        headers={
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "Cookie": f"__Host-sessionid={session}",
        },
    )
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, (time.perf_counter() - began) * 1000, len(body)


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="per dashboard and range (40)")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    parser.add_argument("--database", default=DATABASE, help=f"PostgreSQL database ({DATABASE})")
    parser.add_argument("--redis", default=REDIS_URL, help=f"cache and sessions ({REDIS_URL})")
    parser.add_argument(
        "--redis-db", type=int, help="the local Redis's database N (instead of --redis)"
    )
    parser.add_argument(
        "--only", action="append", choices=list(DASHBOARDS), help="time only these dashboards"
    )
    args = parser.parse_args()
    globals()["DATABASE"] = args.database
    globals()["REDIS_URL"] = (
        args.redis if args.redis_db is None else f"redis://127.0.0.1:6379/{args.redis_db}"
    )
    env = environment()
    if args.reseed or not database_exists():
        seed(env, args.members, args.appointments)
    manage(env, "collectstatic", "--noinput", "-v", "0")
    session, today = finance_session(env)
    port = free_port()
    log = VAR / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf",
             "--bind", f"{HOST}:{port}", "medbook.wsgi"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://{HOST}:{port}"
    failures = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base, "/staff/login/", session)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"gunicorn did not start: see {log}") from None
                time.sleep(0.3)
        ranges = {
            "30 days": f"?range=custom&start={today - dt.timedelta(days=29)}&end={today}",
            "a year": f"?range=custom&start={today - dt.timedelta(days=364)}&end={today}",
        }
        print("\n| dashboard | range | requests | p50 | p95 | max | page |")
        print("|---|---|---|---|---|---|---|")
        for name, path in DASHBOARDS.items():
            if args.only and name not in args.only:
                continue
            for label, query in ranges.items():
                for _ in range(3):  # every worker compiles its templates first
                    get(base, path + query, session)
                times, size = [], 0
                for _ in range(args.requests):
                    status, ms, size = get(base, path + query, session)
                    if status != 200:
                        failures += 1
                        print(f"{name} {label}: HTTP {status}", file=sys.stderr)
                    times.append(ms)
                print(
                    f"| {name} | {label} | {len(times)} | {pct(times, 0.5):.0f} ms | "
                    f"{pct(times, 0.95):.0f} ms | {max(times):.0f} ms | {size // 1024} KiB |",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
