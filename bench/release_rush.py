"""Release rush (放号): many members booking one popular schedule at the same instant.

Measures how fast winners get their slot and losers their "sold out", and checks afterwards that
nothing was overbooked. Run it against a database of its own (it adds rows):

    createdb -h 127.0.0.1 -U postgres medbook_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/medbook_bench MEDBOOK_DEV_SECRETS=true
    export REDIS_URL=redis://127.0.0.1:6379/14          # leave unset to measure without the hint
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/release_rush.py --members 2000 --slots 30 --processes 4 --threads 16

Every member of the pool tries once. Results go to stdout; bench/README.md keeps past results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments import exceptions as errors  # noqa: E402
from appointments import services  # noqa: E402
from appointments.choices import Channel, DoctorTitle  # noqa: E402
from appointments.models import Department, Doctor, Schedule  # noqa: E402
from members.models import Member, MemberLevel, Patient, Relation, User  # noqa: E402

BENCH_PREFIX = "bench-"


def ensure_members(count: int) -> list[int]:
    """At least ``count`` bench members (bulk-inserted, one shared password hash)."""
    level, _ = MemberLevel.objects.get_or_create(
        level=1, defaults={"name": "普通会员", "max_active_appointments": 1000}
    )
    MemberLevel.objects.filter(pk=level.pk).update(max_active_appointments=1000)
    existing = list(
        Member.objects.filter(user__username__startswith=BENCH_PREFIX).values_list("pk", flat=True)
    )
    missing = count - len(existing)
    if missing > 0:
        password = make_password("bench-only")
        start = len(existing)
        users = User.objects.bulk_create(
            [
                User(username=f"{BENCH_PREFIX}{start + i:07d}", password=password)
                for i in range(missing)
            ],
            batch_size=2000,
        )
        members = Member.objects.bulk_create(
            [
                Member(
                    user=user,
                    name=f"压测会员{start + i}",
                    phone=f"+86170{start + i:08d}",
                    level=level,
                )
                for i, user in enumerate(users)
            ],
            batch_size=2000,
        )
        Patient.objects.bulk_create(  # the holder patient (本人), as sign-up makes it
            [Patient(member=m, name=m.name, relation=Relation.SELF) for m in members],
            batch_size=2000,
        )
        existing += [m.pk for m in members]
    return existing[:count]


def new_schedule(slots: int) -> Schedule:
    department, _ = Department.objects.get_or_create(code="bench", defaults={"name": "压测科室"})
    doctor, _ = Doctor.objects.get_or_create(
        name="压测医生",
        department=department,
        defaults={"title": DoctorTitle.CHIEF, "registration_fee": Decimal("50.00")},
    )
    last = Schedule.objects.filter(doctor=doctor).order_by("-date").first()
    date = (last.date if last else timezone.localdate()) + dt.timedelta(days=1)
    return Schedule.objects.create(
        doctor=doctor,
        date=date,
        session="morning",
        start_time=dt.time(8),
        end_time=dt.time(12),
        capacity=slots,
        fee=Decimal("50.00"),
        release_at=timezone.now() - dt.timedelta(minutes=1),
    )


def worker(schedule_id: int, member_ids: list[int], threads: int, start_at: float, out) -> None:
    """One OS process: ``threads`` threads share its members and book as fast as they can."""
    connections.close_all()
    schedule = Schedule.objects.get(pk=schedule_id)
    members = list(Member.objects.filter(pk__in=member_ids))
    connections.close_all()
    results: list[tuple[str, float]] = []
    lock = threading.Lock()
    chunks = [members[i::threads] for i in range(threads)]

    def run(chunk: list[Member]) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        for member in chunk:
            began = time.perf_counter()
            try:
                services.book_appointment(member=member, schedule=schedule, channel=Channel.WEB)
                outcome = "booked"
            except errors.AppointmentError as exc:
                outcome = exc.code
            elapsed = time.perf_counter() - began
            with lock:
                results.append((outcome, elapsed))
        connections.close_all()

    pool = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(results)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--slots", type=int, default=30)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    member_ids = ensure_members(args.members)
    schedule = new_schedule(args.slots)
    # A psycopg pool does not survive fork(): close it so every process opens its own.
    connections.close_all()
    for connection in connections.all():
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
    start_at = time.time() + 2
    queue: mp.Queue = mp.get_context("fork").Queue()
    shares = [member_ids[i :: args.processes] for i in range(args.processes)]
    processes = [
        mp.get_context("fork").Process(
            target=worker, args=(schedule.pk, share, args.threads, start_at, queue)
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    results = [item for _ in processes for item in queue.get()]
    for process in processes:
        process.join()
    wall = max(0.001, time.time() - start_at)

    schedule.refresh_from_db()
    active = schedule.appointments.exclude(status__in=["cancelled", "no_show"]).count()
    wins = [t for outcome, t in results if outcome == "booked"]
    losses = [t for outcome, t in results if outcome != "booked"]
    backend = "redis" if os.environ.get("REDIS_URL") else "local memory"
    print(f"database: {connections['default'].vendor}; cache: {backend}")
    print(
        f"{len(results)} attempts by {args.processes} processes x {args.threads} threads "
        f"for {args.slots} slots in {wall:.2f} s ({len(results) / wall:.0f} attempts/s)"
    )
    for name, values in [("booked", wins), ("refused", losses)]:
        if values:
            print(
                f"  {name:8} {len(values):6d}  p50 {percentile(values, 0.5) * 1000:7.1f} ms  "
                f"p95 {percentile(values, 0.95) * 1000:7.1f} ms  "
                f"p99 {percentile(values, 0.99) * 1000:7.1f} ms  "
                f"mean {statistics.mean(values) * 1000:7.1f} ms"
            )
    overbooked = active > schedule.capacity or schedule.booked != active
    print(f"booked counter {schedule.booked}, active rows {active}, capacity {schedule.capacity}")
    if overbooked or len(wins) != args.slots:
        print("INVARIANT BROKEN")
        sys.exit(1)


if __name__ == "__main__":
    main()
