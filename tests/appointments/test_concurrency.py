"""Invariants 1-3 under real concurrency on PostgreSQL: threads and OS processes, each with its
own database connection, booking and cancelling at the same moment."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from appointments import exceptions as errors
from appointments import services
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_member_within_limit, assert_schedule_invariants
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def run_in_threads(jobs: list, *, timeout: float = 60) -> list:
    """Run each job in its own thread (own connection), all released at the same instant."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index: int, job) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return results


def booking_job(member_id: int, schedule_id: int):
    def job():
        member = Member.objects.get(pk=member_id)
        schedule = ScheduleFactory._meta.model.objects.get(pk=schedule_id)
        return services.book_appointment(member=member, schedule=schedule, channel=Channel.WEB)

    return job


def outcome(result) -> str:
    if isinstance(result, Appointment):
        return "booked"
    if isinstance(result, errors.AppointmentError):
        return result.code
    return repr(result)


def test_fifty_threads_booking_ten_slots_book_exactly_ten(levels) -> None:
    schedule = ScheduleFactory(capacity=10)
    members = [MemberFactory() for _ in range(50)]

    results = run_in_threads([booking_job(m.pk, schedule.pk) for m in members])

    assert Counter(outcome(r) for r in results) == {"booked": 10, "sold_out": 40}
    schedule.refresh_from_db()
    assert schedule.booked == 10
    numbers = sorted(r.queue_number for r in results if isinstance(r, Appointment))
    assert numbers == list(range(1, 11))
    assert_schedule_invariants(schedule.pk)


def test_one_member_racing_themselves_books_once(levels) -> None:
    schedule = ScheduleFactory(capacity=10)
    member = MemberFactory()

    results = run_in_threads([booking_job(member.pk, schedule.pk) for _ in range(10)])

    assert Counter(outcome(r) for r in results) == {"booked": 1, "already_booked": 9}
    assert_schedule_invariants(schedule.pk)


def test_one_member_racing_across_schedules_stays_within_the_level_limit(levels) -> None:
    member = MemberFactory(level=levels["普通"])
    schedules = [ScheduleFactory() for _ in range(8)]

    results = run_in_threads([booking_job(member.pk, s.pk) for s in schedules])

    limit = member.level.max_active_appointments
    assert Counter(outcome(r) for r in results) == {"booked": limit, "tier_limit": 8 - limit}
    assert_member_within_limit(member)


CHILD = """
import json, os, sys, threading, time
import django
django.setup()
from django.db import connections
from appointments import services
from appointments.choices import Channel
from appointments.exceptions import AppointmentError
from appointments.models import Schedule
from members.models import Member

schedule_id = int(sys.argv[1]); start_at = float(sys.argv[2]); member_ids = json.loads(sys.argv[3])
results = []
lock = threading.Lock()

def run(member_id):
    try:
        member = Member.objects.get(pk=member_id)
        schedule = Schedule.objects.get(pk=schedule_id)
        time.sleep(max(0.0, start_at - time.time()))
        appointment = services.book_appointment(
            member=member, schedule=schedule, channel=Channel.WEB
        )
        outcome = ["booked", appointment.queue_number]
    except AppointmentError as exc:
        outcome = [exc.code, None]
    finally:
        connections.close_all()
    with lock:
        results.append(outcome)

threads = [threading.Thread(target=run, args=(m,)) for m in member_ids]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
"""


def test_two_processes_booking_one_schedule_never_overbook(levels) -> None:
    schedule = ScheduleFactory(capacity=10)
    member_ids = [MemberFactory().pk for _ in range(40)]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "medbook.settings",
        "PYTHONPATH": str(ROOT),
    }
    start_at = time.time() + 3
    halves = [member_ids[::2], member_ids[1::2]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(schedule.pk), str(start_at), json.dumps(half)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in halves
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err

    results = [item for out, _ in outputs for item in json.loads(out)]
    per_process = [Counter(code for code, _ in json.loads(out)) for out, _ in outputs]
    assert Counter(code for code, _ in results) == {"booked": 10, "sold_out": 30}
    assert all(counts["booked"] + counts["sold_out"] == 20 for counts in per_process)
    assert sorted(n for code, n in results if code == "booked") == list(range(1, 11))
    assert_schedule_invariants(schedule.pk)


def test_bookings_racing_cancellations_keep_the_invariants(levels) -> None:
    schedule = ScheduleFactory(capacity=10)
    newcomers = [MemberFactory() for _ in range(30)]
    rng = random.Random(7)

    def cancel_job(appointment: Appointment):
        def job():
            return services.cancel_appointment(
                appointment=appointment, by=appointment.member.user, reason="race"
            )

        return job

    for _round in range(3):
        held = list(
            Appointment.objects.filter(
                schedule=schedule, status=AppointmentStatus.PENDING_PAYMENT
            ).select_related("member__user")
        )
        cache.clear()  # a sold-out hint left from the last round must not stop the top-up
        while len(held) < 6:
            member = MemberFactory()
            held.append(
                services.book_appointment(member=member, schedule=schedule, channel=Channel.WEB)
            )
        jobs = [booking_job(m.pk, schedule.pk) for m in newcomers]
        jobs += [cancel_job(a) for a in held]
        rng.shuffle(jobs)

        results = run_in_threads(jobs)

        assert not [r for r in results if not isinstance(r, Appointment | errors.AppointmentError)]
        cancelled = [r for r in results if isinstance(r, Appointment) and r.status == "cancelled"]
        assert len(cancelled) == len(held), "every holder's own cancellation goes through"
        assert_schedule_invariants(schedule.pk)
