"""Issue 14's race: 200 API booking requests for a 10-slot session, from four OS processes
(each with its own threads and database connections, through Django's test client and the
whole request stack) — exactly 10 bookings, numbers 1..10, every other request a clear
refusal, never a 5xx. Half the requests carry an Idempotency-Key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from appointments.models import Appointment, Schedule
from tests.api.helpers import pair_for
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 200
PROCESSES = 4
THREADS = 10  # per process: 40 database connections at most

CHILD = """
import json, queue, sys, threading, time
import django
django.setup()
from django.db import connections
from django.test import Client

jobs = json.loads(sys.stdin.read())
start_at = float(sys.argv[1])
work = queue.Queue()
for job in jobs:
    work.put(job)
results = []
lock = threading.Lock()

def worker():
    client = Client()
    time.sleep(max(0.0, start_at - time.time()))
    try:
        while True:
            try:
                job = work.get_nowait()
            except queue.Empty:
                return
            headers = {"HTTP_AUTHORIZATION": "Bearer " + job["token"], "HTTP_ACCEPT_LANGUAGE": "en"}
            if job["key"]:
                headers["HTTP_IDEMPOTENCY_KEY"] = job["key"]
            response = client.post(
                "/api/v1/appointments/", json.dumps({"schedule": job["schedule"]}),
                content_type="application/json", **headers,
            )
            try:
                body = response.json()
            except ValueError:
                body = {"raw": response.content[:200].decode(errors="replace")}
            code = body.get("error", {}).get("code") if "error" in body else None
            with lock:
                results.append([response.status_code, code, body.get("queue_number")])
    finally:
        connections.close_all()

threads = [threading.Thread(target=worker) for _ in range(int(sys.argv[2]))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
"""


def test_two_hundred_api_bookings_across_processes_book_exactly_ten(levels) -> None:
    schedule = ScheduleFactory(capacity=10)
    jobs = [
        {
            "token": pair_for(MemberFactory(level=levels["普通"]).user).access,
            "schedule": schedule.pk,
            "key": f"race-{n}" if n % 2 else "",
        }
        for n in range(REQUESTS)
    ]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "medbook.settings",
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "testserver",
        # One address (127.0.0.1) sends all 200: the per-address booking limit would answer
        # most of them 429 before they reach the database, which is what this race is about.
        "MEDBOOK_BOOKING_RATE_IP": "10000/60",
        "MEDBOOK_API_RATE_IP": "10000/60",
    }
    start_at = time.time() + 6  # every process set up and waiting
    share = REQUESTS // PROCESSES
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(start_at), str(THREADS)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [
        process.communicate(json.dumps(jobs[i * share : (i + 1) * share]), timeout=180)
        for i, process in enumerate(processes)
    ]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]

    results = [row for out, _ in outputs for row in json.loads(out.strip().splitlines()[-1])]
    assert len(results) == REQUESTS
    assert not [r for r in results if r[0] >= 500], results
    assert Counter((status, code) for status, code, _ in results) == {
        (201, None): 10,
        (409, "sold_out"): REQUESTS - 10,
    }
    assert sorted(n for status, _, n in results if status == 201) == list(range(1, 11))
    assert Schedule.objects.get(pk=schedule.pk).booked == 10
    assert Appointment.objects.filter(schedule=schedule, channel="api").count() == 10
    assert_schedule_invariants(schedule.pk)
