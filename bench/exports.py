"""Time a detail export on the big demo clinic: the appointment list of the last ``--days`` days
(a year by default), asked for as a page does and written by a real Celery worker on RabbitMQ;
its time, the progress the page would poll, and the worker's memory.

    flock /tmp/bench.lock .venv/bin/python bench/exports.py --database NAME \
        [--days 365] [--format xlsx|csv] [--unmasked] [--var DIR]

Heavy: run it under the machine's benchmark lock, on a copy of the 1M database
(``CREATE DATABASE … TEMPLATE medbook_reports_bench``), never on the seeded one itself: the
script migrates it (the exports' table) and writes an export row. ``--var`` is the folder whose
``secrets.json`` encrypted the seeded rows (``var/bench-reports`` of the checkout that seeded
it): the list decrypts every member's phone.

The worker runs with ``--pool=solo``, so the job runs in the process whose memory is read
(/proc/PID/status): VmRSS before the job and VmHWM (the peak) after it. The export is asked for
through ``reports.exports.request_export`` (a finance login: names and numbers masked, or a
clinic admin with ``--unmasked``), which promises the job in the outbox; the hand-over after
commit sends it to the worker's own queue. Time is from the request's commit to the row's
``done``; the file is opened again with openpyxl (read-only) to count its rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def environment(args: argparse.Namespace, exports: Path, queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "TZ")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "medbook.settings",
            "DATABASE_URL": f"postgres://postgres@{HOST}:5432/{args.database}",
            "REDIS_URL": args.redis,
            "CACHE_KEY_PREFIX": f"medbook-exports-bench-{queue}",
            "CELERY_BROKER_URL": BROKER,
            "CELERY_QUEUE": queue,
            "DJANGO_DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "MEDBOOK_DEV_SECRETS": "true",
            "MEDBOOK_VAR_DIR": str(args.var),
            "MEDBOOK_EXPORT_DIR": str(exports),
            "ALLOWED_HOSTS": HOST,
        }
    )
    return env


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) // 1024
    return found


REQUEST = """
import datetime as dt, json
from django.contrib.auth.models import Group
from django.http import QueryDict
from django.utils import timezone
from medbook.roles import CLINIC_ADMIN, FINANCE
from members.models import User
from reports import exports
from reports.dashboards import BY_SLUG
from reports.forms import BookingFilterForm
role = CLINIC_ADMIN if {unmasked} else FINANCE
user, _ = User.objects.get_or_create(username="bench-exports-" + role.encode().hex()[:8])
user.groups.set([Group.objects.get(name=role)])
today = timezone.localdate()
query = QueryDict(mutable=True)
query.update({{"range": "custom", "start": str(today - dt.timedelta(days={days} - 1)),
              "end": str(today)}})
form = BookingFilterForm(query, today=today)
assert form.is_valid(), form.errors
export, created = exports.request_export(
    by=user, dashboard=BY_SLUG["bookings"], kind="appointments", export_format="{fmt}",
    filters=form.export_data(), filter_names=form.names(), language="zh-hans")
print(json.dumps({{"id": export.pk, "start": form.export_data()["start"],
                  "end": form.export_data()["end"]}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a copy of the 1M database")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--unmasked", action="store_true", help="as a clinic admin")
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "bench-reports")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    if not (args.var / "secrets.json").exists():
        raise SystemExit(f"{args.var}/secrets.json is missing: give --var of the seed")
    import psycopg

    queue = f"bench-exports-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="medbook-bench-exports-") as folder:
        exports_dir = Path(folder) / "exports"
        env = environment(args, exports_dir, queue)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        log = Path(folder) / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "medbook", "worker", "--pool=solo",
                 "-Q", queue, "--loglevel=INFO", "-n", f"{queue}@%h",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log.read_text():
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit(f"the worker did not start:\n{log.read_text()}")
                time.sleep(0.2)
            before = memory(worker.pid)["VmRSS"]
            script = REQUEST.format(unmasked=args.unmasked, days=args.days, fmt=args.format)
            out = subprocess.run(
                [*manage, "shell", "-c", script],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            asked = time.monotonic()
            request = json.loads(out.strip().splitlines()[-1])
            dsn = f"host={HOST} user=postgres dbname={args.database}"
            samples: list[tuple[float, int, int]] = []
            rss_max = before
            with psycopg.connect(dsn, autocommit=True) as conn:
                while True:
                    status, progress, rows, size, error, name = conn.execute(
                        "SELECT status, progress, row_count, size, error, file "
                        "FROM reports_export WHERE id = %s",
                        [request["id"]],
                    ).fetchone()
                    rss_max = max(rss_max, memory(worker.pid)["VmRSS"])
                    elapsed = time.monotonic() - asked
                    if not samples or samples[-1][1] != progress:
                        samples.append((elapsed, progress, rows))
                    if status in ("done", "failed"):
                        break
                    if elapsed > 1800:
                        raise SystemExit("no end after 30 minutes")
                    time.sleep(0.2)
            total = time.monotonic() - asked
            peak = memory(worker.pid)["VmHWM"]
            if status != "done":
                print(f"export failed: {error}\n{log.read_text()}", file=sys.stderr)
                return 1
            counted = None
            if args.format == "xlsx":
                import openpyxl

                book = openpyxl.load_workbook(exports_dir / name, read_only=True)
                counted = sum(
                    sum(1 for _ in book[sheet].iter_rows(values_only=True)) - 1
                    for sheet in book.sheetnames[1:]
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    first = next((t for t, p, _r in samples if p > 0), None)
    print(f"\nrange {request['start']} – {request['end']} ({args.days} days), {args.format}, "
          f"{'unmasked' if args.unmasked else 'masked'}")  # fmt: skip
    print(f"progress seen: {', '.join(f'{p}% @ {t:.1f}s' for t, p, _r in samples[:12])} …")
    print("\n| days | format | rows | file | time to done | first progress | worker RSS before | "
          "worker peak (VmHWM) | sampled RSS max |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.days} | {args.format} | {rows:,} | {size / 1048576:.1f} MiB | {total:.1f} s | "
        f"{first:.1f} s | {before} MiB | {peak} MiB | {rss_max} MiB |"
    )
    if counted is not None and counted != rows:
        print(f"the file holds {counted} rows, the export says {rows}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
