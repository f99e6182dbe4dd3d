"""A doctor's page and its 5-second poll with and without the catalogue cache (issue 18, 3).

    python3 dev.py cluster &      # the demo clinic on the primary + replica (var/cluster)
    nice flock /tmp/bench.lock .venv/bin/python bench/doctor_page.py [--requests 400] \
        [--clients 4] [--pg-port 55432]

For each mode (``CATALOGUE_CACHE=false``, then ``true``):

1. Query counts, in this process with Django's test client on the cluster's database: the
   second visit of the busiest doctor's page (the first one fills the cache), anonymous and as
   a member, full page and the HTMX poll; statements of every alias (primary and replica).
2. Latency over HTTP: gunicorn (``-c python:medbook.gunicorn_conf``, 2 sync workers, production
   settings but plain HTTP) on a free port, against the cluster's primary and replica and
   Redis db 6; after 20 warm-up requests, ``--requests`` anonymous GETs of the page and as many
   polls (``HX-Request: true``) from ``--clients`` threads; p50 / p95 / max.

Prints a Markdown table (bench/README.md, "doctor_page.py").
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(pg_port: int, cache_on: bool) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/medbook",
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{pg_port + 1}/medbook",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"),
        "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        "CELERY_QUEUE": "bench-doctor-page",
        "MEDBOOK_DEV_SECRETS": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CATALOGUE_CACHE": "true" if cache_on else "false",
        "DJANGO_SETTINGS_MODULE": "medbook.settings",
    }


def query_counts(pg_port: int, cache_on: bool) -> dict[str, int]:
    """Run in a child process (settings are read once per process)."""
    code = """
import json, django
django.setup()
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from appointments.models import Doctor
from members.models import Member
from contextlib import ExitStack
today = timezone.localdate()
doctor = (Doctor.objects.filter(is_active=True)
    .annotate(n=Count("schedules", filter=Q(schedules__date__gte=today))).order_by("-n").first())
url = f"/doctors/{doctor.pk}/"
member = Member.objects.select_related("user").order_by("pk").first()
result = {"doctor": doctor.pk}
for who in ("anonymous", "member"):
    client = Client()
    if who == "member":
        client.force_login(member.user)
    for kind, headers in (("page", {}), ("poll", {"HX-Request": "true"})):
        client.get(url, headers=headers)  # fills the cache (when on)
        with ExitStack() as stack:
            captured = [stack.enter_context(CaptureQueriesContext(connections[a]))
                        for a in connections.settings]
            assert client.get(url, headers=headers).status_code == 200
        result[f"{who} {kind}"] = sum(len(c.captured_queries) for c in captured)
print(json.dumps(result))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(pg_port, cache_on),
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_get(url: str, headers: dict[str, str]) -> float:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own server
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        assert response.status == 200
    return (time.perf_counter() - began) * 1000


def latencies(url: str, headers: dict[str, str], requests: int, clients: int) -> list[float]:
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda _: timed_get(url, headers), range(requests)))


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"{statistics.median(values):.1f} / {p95:.1f} / {values[-1]:.1f}"


def http_run(pg_port: int, cache_on: bool, doctor: int, requests: int, clients: int) -> dict:
    port = free_port()
    env = environment(pg_port, cache_on) | {"WEB_CONCURRENCY": "2"}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf"),
            *("--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "medbook.wsgi"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                timed_get(f"{base}/healthz", {})
                break
            except OSError:
                time.sleep(0.2)
        url = f"{base}/doctors/{doctor}/"
        latencies(url, {}, 20, clients)  # warm-up: imports, connections, the cache
        return {
            "page": summary(latencies(url, {}, requests, clients)),
            "poll": summary(latencies(url, {"HX-Request": "true"}, requests, clients)),
        }
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pg-port", type=int, default=55432)
    args = parser.parse_args()
    rows = []
    for cache_on in (False, True):
        counts = query_counts(args.pg_port, cache_on)
        http = http_run(args.pg_port, cache_on, counts["doctor"], args.requests, args.clients)
        rows.append((cache_on, counts, http))
    print(f"doctor {rows[0][1]['doctor']}, {args.requests} requests each, {args.clients} clients")
    print(
        "| cache | queries: page / poll (anonymous) | queries: page / poll (member) "
        "| page p50 / p95 / max ms | poll p50 / p95 / max ms |"
    )
    print("|---|---|---|---|---|")
    for cache_on, counts, http in rows:
        print(
            f"| {'on' if cache_on else 'off'} "
            f"| {counts['anonymous page']} / {counts['anonymous poll']} "
            f"| {counts['member page']} / {counts['member poll']} "
            f"| {http['page']} | {http['poll']} |"
        )


if __name__ == "__main__":
    main()
