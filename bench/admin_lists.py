"""Time every Django admin list and change page and the staff console's lists over HTTP, on a
10x demo clinic and on the 1M one side by side (issue 17, part 6).

    nice -n 10 flock /tmp/bench.lock .venv/bin/python bench/admin_lists.py [--requests 20] \
        [--reseed] [--sizes small,big] [--only TEXT]

Heavy: run it under the machine's benchmark lock. Two databases of its own: ``SMALL`` (10x the
demo: 5,000 members / 30,000 appointments) and ``BIG`` (100k members / 1M appointments); each
is created, migrated and loaded with ``seed_demo`` the first time (or with ``--reseed``; the
seed's time is printed), and migrated on every run (so new indexes apply). gunicorn serves
MedBook with production settings (no DEBUG, HTTPS behind a trusted proxy header, Redis db 5)
and its default workers; a superuser gets a real server-side staff session, with the member
searches kept in it as the console's search form keeps them.

Pages: every ModelAdmin's changelist and the change page of its newest row (the member with the
longest ledger for members), a few filtered and searched changelists, and the console's lists:
today's board, member search by name (surname prefix, a full name), mobile and ID number, the
operation log (first page and a page deep in it), schedules, unpaid holds, a member's page and an
appointment's page. Both sizes are served at once (a gunicorn each); each page is requested 3
times on each to warm up, then ``--requests`` times, the sizes taking turns (so whatever else the
machine does meanwhile falls on both alike); times are from send to the last byte read. Query
counts come from the same pages rendered once in-process (Django's test client with the same
session) with the queries captured. It prints one table: p50 / p95 at each size, the ratio of
the p95s, and the query counts; it exits 1 on any answer but 200.

Target (issue 17): every page under 200 ms p95 at 1M, within 1.2x of its 10x p95, with the same
query count.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REDIS_URL = "redis://127.0.0.1:6379/5"
VAR = ROOT / "var" / "bench-admin"
SIZES = {
    "small": ("medbook_admin_bench_10x", 5_000, 30_000),
    "big": ("medbook_admin_bench", 100_000, 1_000_000),
}

# Run in ``manage.py shell`` on the database: the superuser's session (with the member searches
# kept in it), the pages to time, and each page's status and query count rendered in-process.
SETUP = r"""
import json, time
from urllib.parse import quote
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Substr, Upper
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from appointments.models import Appointment
from demo import data
from medbook import middleware
from medbook.models import OperationLog
from medbook.staff import SEARCHES
from members.models import Member, PointsEntry, User
from members.selectors import MemberSearch

user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
user.is_staff = user.is_superuser = True
user.save()
if not Authenticator.objects.filter(user=user).exists():
    TOTP.activate(user, generate_totp_secret())

# Who to look for: a member of the middle of the list, by surname, full name, mobile and ID;
# one with as many appointments at either size (the 1M clinic's members have more visits each)
# and a full name no one else has, so a search lists the same rows at 10x and at 1M.
VISITS = 5
with_id = Member.objects.filter(national_id_index__isnull=False).order_by("pk")  # NULL: no ID
alike = (
    with_id.filter(pk__gte=with_id[with_id.count() // 2].pk)
    .annotate(visits=Count("appointments"))
    .filter(visits=VISITS)
)
probe = next(m for m in alike[:500] if Member.objects.filter(name=m.name).count() == 1)
login = probe.user.username
index = int(login.removeprefix("demo-")) if login.startswith("demo-") else 0
searches = {
    "surname": MemberSearch.from_query(probe.name[0]),
    "full name": MemberSearch.from_query(probe.name),
    "mobile": MemberSearch.from_query(data.demo_phone(index)),
    "ID number": MemberSearch.from_query(probe.national_id),
}
# Two characters whose members have a full page of appointments (50) between them, so the
# page lists as many rows at 10x as at 1M: at 1M any two characters start ~20 names (~200
# visits), at 10x one to three. The first two characters grouped in SQL, fewest members first.
starts = (
    Member.objects.annotate(start=Upper(Substr("name", 1, 2)))
    .values("start")
    .annotate(members=Count("id", distinct=True), visits=Count("appointments"))
)
two = (
    starts.filter(visits__gte=50).order_by("members", "start").values_list("start", flat=True)
    .first()
    # A seed whose 10x names spread too thin for 50: the two characters with the most visits.
    or starts.order_by("-visits", "start").values_list("start", flat=True).first()
)
now = int(time.time())
s = SessionStore()
s.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
  HASH_SESSION_KEY: user.get_session_auth_hash(), middleware.SESSION_KIND: "staff",
  middleware.SESSION_STARTED: now, middleware.SESSION_SEEN: now,
  middleware.SESSION_EPOCH: user.session_epoch,
  SEARCHES: {f"bench{i}": {"kind": "members", "at": now + 3600, "data": search.as_dict()}
             for i, search in enumerate(searches.values())}})
s.create()

pages = []
for model, model_admin in admin.site._registry.items():
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    pages.append((f"admin {opts.app_label}.{opts.model_name} list", reverse(base + "_changelist")))
    if model is Member:
        top = PointsEntry.objects.values("member").annotate(n=Count("id")).order_by("-n").first()
        pk = top["member"] if top else None
    else:
        pk = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    if pk is not None:
        name = f"admin {opts.app_label}.{opts.model_name} change"
        pages.append((name, reverse(base + "_change", args=[pk])))
appointments = reverse("admin:appointments_appointment_changelist")
orders = reverse("admin:billing_order_changelist")
members = reverse("admin:members_member_changelist")
heavy = PointsEntry.objects.values("member").annotate(n=Count("id")).order_by("-n").first()
pages += [
    ("admin appointments, confirmed", appointments + "?status__exact=confirmed"),
    # A surname alone is refused on the members' rows (asks for two characters: members/admin.py).
    ("admin appointments, search surname", appointments + "?q=" + quote(probe.name[0])),
    ("admin appointments, search two characters", appointments + "?q=" + quote(two)),
    ("admin appointments, search full name", appointments + "?q=" + quote(probe.name)),
    ("admin appointments, search mobile", appointments + "?q=" + data.demo_phone(index)),
    ("admin orders, paid", orders + "?status__exact=paid"),
    ("admin orders, search mobile", orders + "?q=" + data.demo_phone(index)),
    ("admin members, search full name", members + "?q=" + quote(probe.name)),
    ("admin points ledger of a member", reverse("admin:members_pointsentry_changelist")
     + f"?member__id__exact={heavy['member'] if heavy else 0}"),
]
middle = OperationLog.objects.order_by("-created_at", "-pk")[OperationLog.objects.count() // 2]
# The same shape at both sizes: a paid, confirmed booking (a free one reads no order).
newest = (
    Appointment.objects.filter(status="confirmed", order__paid_at__isnull=False)
    .order_by("-pk")
    .first()
)
pages += [
    ("console today's board", reverse("staff:today")),
    ("console member search: surname", reverse("staff:members") + "?search=bench0"),
    ("console member search: full name", reverse("staff:members") + "?search=bench1"),
    ("console member search: mobile", reverse("staff:members") + "?search=bench2"),
    ("console member search: ID number", reverse("staff:members") + "?search=bench3"),
    ("console operation log", reverse("staff:operation_log")),
    ("console operation log, deep page", reverse("staff:operation_log")
     + "?before=" + quote(f"{middle.created_at.isoformat()}_{middle.pk}")),
    ("console operation log, one login", reverse("staff:operation_log") + "?actor=bench-admin"),
    ("console schedules", reverse("staff:schedules")),
    ("console unpaid holds", reverse("staff:unpaid_holds")),
    ("console member page", reverse("staff:member", args=[heavy["member"] if heavy else probe.pk])),
    ("console appointment page", reverse("staff:appointment", args=[newest.pk])),
]

client = Client(
    raise_request_exception=False, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1"
)
client.cookies[settings.SESSION_COOKIE_NAME] = s.session_key
counted = []
for name, url in pages:
    # Cold caches (login, clinic details, session) for each count: the same at every size.
    for cache in caches.all():
        cache.clear()
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    counted.append([name, url, response.status_code, len(queries)])
print("BENCH " + json.dumps({"session": s.session_key, "pages": counted}))
"""


def environment(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "TZ")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "medbook.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": f"medbook-admin-bench-{database}",
            "CELERY_QUEUE": "admin-bench",
            "DJANGO_DEBUG": "false",
            # Keys kept under var/bench-admin/ so that the seeded rows stay readable.
            "MEDBOOK_DEV_SECRETS": "true",
            "MEDBOOK_VAR_DIR": str(VAR),
            "ALLOWED_HOSTS": HOST,
            "MEDBOOK_TRUSTED_PROXIES": "127.0.0.1",
            "STATIC_ROOT": str(VAR / "static"),
        }
    )
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=capture,
        text=True,
    )
    if done.returncode:
        sys.stderr.write(done.stderr or "")  # what went wrong, not only that it did
        done.check_returncode()
    return done.stdout or ""


def database_exists(database: str) -> bool:
    import psycopg

    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres") as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    return row is not None


def seed(env: dict[str, str], database: str, members: int, appointments: int) -> float:
    import psycopg

    with psycopg.connect(f"host={HOST} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    manage(env, "migrate", "--noinput", "-v", "0")
    began = time.monotonic()
    manage(env, "seed_demo", "--members", str(members), "--appointments", str(appointments))
    return time.monotonic() - began


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(base: str, path: str, session: str) -> tuple[int, float]:
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
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, (time.perf_counter() - began) * 1000


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Site:
    """One size's database served by its own gunicorn, with the bench login's session and the
    pages to time (name, URL, status, query count)."""

    size: str
    base: str
    session: str
    pages: list[list]
    server: subprocess.Popen
    times: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


def start(size: str, args: argparse.Namespace) -> Site:
    """Seed ``size``'s database if needed, migrate, make the session and serve it."""
    database, members, appointments = SIZES[size]
    env = environment(database)
    if args.reseed or not database_exists(database):
        seconds = seed(env, database, members, appointments)
        print(
            f"{size}: seeded {members:,} members / {appointments:,} in {seconds:.0f} s", flush=True
        )
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    out = manage(env, "shell", "-c", SETUP, capture=True)
    setup = json.loads(next(x for x in out.splitlines() if x.startswith("BENCH "))[6:])
    port = free_port()
    log = VAR / f"gunicorn-{size}.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf",
             "--bind", f"{HOST}:{port}", "medbook.wsgi"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    site = Site(size, f"http://{HOST}:{port}", setup["session"], setup["pages"], server)
    deadline = time.monotonic() + 60
    while True:
        try:
            get(site.base, "/staff/login/", site.session)
            return site
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start: see {log}") from None
            time.sleep(0.3)


def measure(sites: list[Site], args: argparse.Namespace) -> None:
    """Time each page at every size, the sizes' requests taking turns (small, big, small, …):
    whatever else the machine does meanwhile falls on both alike."""
    urls = [{name: url for name, url, _status, _queries in site.pages} for site in sites]
    for name in urls[0]:
        if args.only and not any(text in name for text in args.only):
            continue
        if not all(name in found for found in urls):
            continue
        for site, found in zip(sites, urls, strict=True):
            for _ in range(3):  # every worker compiles its templates first
                get(site.base, found[name], site.session)
        for _ in range(args.requests):
            for site, found in zip(sites, urls, strict=True):
                code, ms = get(site.base, found[name], site.session)
                site.failures[name] = site.failures.get(name, 0) + (code != 200)
                site.times.setdefault(name, []).append(ms)
        shown = [(site.size, site.times[name]) for site in sites]
        line = ", ".join(f"{size} {pct(t, 0.5):.0f} / {pct(t, 0.95):.0f} ms" for size, t in shown)
        print(f"{name}: {line}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="per page (20)")
    parser.add_argument("--reseed", action="store_true", help="drop and seed the databases again")
    parser.add_argument("--sizes", default="small,big", help="small, big or both (small,big)")
    parser.add_argument("--only", action="append", help="pages whose name contains this")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    sizes = [size for size in args.sizes.split(",") if size in SIZES]
    sites: list[Site] = []
    try:
        for size in sizes:
            sites.append(start(size, args))
        measure(sites, args)
    finally:
        for site in sites:
            site.server.terminate()
            site.server.wait(timeout=30)
    header = " | ".join(f"{size} p50 / p95" for size in sizes)
    print(f"\n| page | {header} | ratio of p95 | queries |")
    print("|---|" + "---|" * len(sizes) + "---|---|")
    failed = 0
    for name in sites[0].times:
        cells, p95s, queries = [], [], []
        for site in sites:
            status, count = next((st, q) for n, _u, st, q in site.pages if n == name)
            failed += site.failures[name] + (status != 200)
            p50, p95 = pct(site.times[name], 0.5), pct(site.times[name], 0.95)
            cells.append(f"{p50:.0f} / {p95:.0f} ms")
            p95s.append(p95)
            queries.append(str(count))
        ratio = f"{p95s[-1] / p95s[0]:.2f}×" if len(p95s) == 2 and p95s[0] else "—"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} | {' / '.join(queries)} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
