"""A booking burst through the local cluster (``dev.py cluster``) while parts of it fail.

    .venv/bin/python bench/cluster_burst.py [--members 300] [--capacity 30]
                                            [--cases none,replica,term,kill]
                                            [--fault-after 300] [--pages-every 3] [--attach]

1. Starts ``python3 dev.py cluster`` on ports of its own (HAProxy ``--port``, web instances
   from ``--web-port``, PostgreSQL primary ``--pg-port`` and replica the next one), with Redis
   database 10 (``--redis-db``) and a Celery queue of its own, so nothing else on the machine is
   disturbed; waits until HAProxy and all three web instances answer ``/readyz``.
   ``--attach`` uses a cluster already running on those ports instead (started with the same
   environment: see ``cluster_environment``).
2. Seeds N members (a server-side session each, as ``bench/release_http.py`` does) and a doctor.
3. Per case, new members (step 2) and a freshly released session of ``--capacity`` slots;
   every member at once sends ``POST /book/<id>/``, and every ``--pages-every``-th one also
   ``GET /doctors/<doctor>/`` (a page read from the replica), through HAProxy;
   ``--fault-after`` ms into the burst the case strikes:

   * ``none``: nothing (the reference);
   * ``replica``: ``pg_ctl stop -m immediate`` of the streaming replica (started again after);
   * ``term``: SIGTERM to one web instance's gunicorn (graceful: in-flight requests finish;
     ``dev.py`` starts it again, HAProxy takes it out and back by its checks);
   * ``kill``: SIGKILL to one web instance's whole process group (master and workers).

4. Checks, per case: nothing oversold (``booked`` = active appointments ≤ capacity), queue
   numbers 1..capacity, every member told "booked" has that appointment with an order and
   reaches the cashier, nobody has an appointment they were not told about (a booking lost to
   its member), no 5xx, every request answered; at the end ``check_integrity``. Prints a table;
   exits 1 when a check fails (``kill`` reports what it measures and fails only on oversold,
   wrong queue numbers or an inconsistent database: a killed process cannot answer the
   requests it was running).

Outcomes of a booking POST: ``won`` = 302 to the appointment's pay page; ``already`` = 302 to
the member's appointment (HAProxy retried a POST whose first try had booked: the per-member
rule answers "already booked"); ``on its way`` = 302 to the appointment list (the gate saw this
member's first try still running); ``sold out`` = 409 page; ``5xx``; ``no answer``; other.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import release_http as rh  # noqa: E402  (after the path)

CASES = ("none", "replica", "term", "kill")


def load_dev():
    import importlib.util

    spec = importlib.util.spec_from_file_location("medbook_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = load_dev()


def cluster_environment(args: argparse.Namespace) -> dict[str, str]:
    """What the cluster and this script share: the database, Redis db, secrets, host."""
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{args.pg_port}/medbook",
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{args.pg_port + 1}/medbook",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "CELERY_QUEUE": args.queue,
        "MEDBOOK_DEV_SECRETS": "true",
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{rh.HOST}",
        "CSRF_TRUSTED_ORIGINS": rh.ORIGIN,
        # The client plays the members' browsers behind the balancer: each member comes from
        # an address of their own (X-Forwarded-For), so the per-address limit counts each.
        "MEDBOOK_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "medbook.settings",
    }


# -- the cluster ---------------------------------------------------------------------------------


class Cluster:
    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.args = args
        self.base = f"http://127.0.0.1:{args.port}"
        self.web_ports = [args.web_port + i for i in range(3)]
        self.replica_dir = ROOT / "var" / "cluster" / "replica"
        self.stats = ROOT / "var" / "cluster" / "haproxy.sock"
        self.log = args.log_dir / "cluster.log"
        self.process: subprocess.Popen | None = None
        if not args.attach:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "dev.py"),
                    "cluster",
                    *("--port", str(args.port), "--web-port", str(args.web_port)),
                    *("--pg-port", str(args.pg_port)),
                ],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=self.log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self, url: str) -> bool:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=3) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def wait_all_up(self, timeout: float = 600) -> float:
        """Until HAProxy and the three instances answer /readyz; returns the seconds waited."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"dev.py cluster exited ({self.process.returncode}): {self.log}")
            urls = [self.base] + [f"http://127.0.0.1:{p}" for p in self.web_ports]
            if all(self.ready(u) for u in urls):
                return time.monotonic() - began
            time.sleep(1)
        raise SystemExit(f"the cluster was not up within {timeout:.0f} s: {self.log}")

    def web_group(self, index: int) -> int:
        """The process group of web instance ``index`` (its gunicorn master leads it)."""
        bind = f"127.0.0.1:{self.web_ports[index]}"
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"gunicorn" in b" ".join(argv) and bind.encode() in argv:
                return os.getpgid(int(proc.name))
        raise RuntimeError(f"no gunicorn bound to {bind}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # dev.py stops everything, then PostgreSQL
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


class Strike:
    """What ``fire`` calls ``after`` seconds into the burst (in a thread: it may block)."""

    def __init__(self, case: str, after: float, cluster: Cluster) -> None:
        self.case, self.after, self.cluster = case, after, cluster
        self.note = ""
        self.thread: threading.Thread | None = None

    def strike(self) -> None:
        self.thread = threading.Thread(target=self._strike)
        self.thread.start()

    def _strike(self) -> None:
        began = time.monotonic()
        if self.case == "replica":
            dev.pg_stop(self.cluster.replica_dir, mode="immediate")
            self.note = f"replica stopped (immediate) in {time.monotonic() - began:.2f} s"
        elif self.case == "term":
            group = self.cluster.web_group(1)
            os.kill(group, signal.SIGTERM)
            self.note = f"SIGTERM to web 2's gunicorn master (pid {group})"
        elif self.case == "kill":
            group = self.cluster.web_group(1)
            os.killpg(group, signal.SIGKILL)
            self.note = f"SIGKILL to web 2's process group {group}"

    def heal(self) -> None:
        if self.thread is not None:
            self.thread.join()
        if self.case == "replica":
            dev.pg_start(self.cluster.replica_dir)
            dev.wait_streaming(self.cluster.args.pg_port + 1)


def haproxy_counters(sock: Path) -> Counter:
    """HAProxy's counters from its stats socket: requests sent again (``wretr``), to another
    instance (``wredis``), and 5xx answered to clients (the frontend's ``hrsp_5xx``)."""
    import csv
    import io
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(sock))
        conn.sendall(b"show stat\n")
        data = b"".join(iter(lambda: conn.recv(65536), b""))
    rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
    counters: Counter = Counter()
    for row in rows:
        if row["pxname"] == "web" and row["svname"] == "BACKEND":
            counters["retries"] += int(row["wretr"] or 0)
            counters["redispatches"] += int(row["wredis"] or 0)
        if row["pxname"] == "medbook" and row["svname"] == "FRONTEND":
            counters["5xx sent"] += int(row["hrsp_5xx"] or 0)
    return counters


class NoServer:
    """``release_http.fire`` measures gunicorn's CPU; here the processes are the cluster's."""

    def cpu_seconds(self) -> float:
        return 0.0


# -- seeding ---------------------------------------------------------------------------------------


def seed(count: int) -> tuple[list[rh.Visitor], int]:
    """``count`` members with a session each (numbers of their own, after any earlier run's)
    and a doctor of this run; returns them and the doctor's id."""
    import importlib
    import secrets

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from appointments.choices import DoctorTitle
    from appointments.models import Department, Doctor
    from medbook import middleware
    from members import consents
    from members.models import Consent, Member, MemberLevel, Patient, Relation, User

    first = User.objects.filter(username__startswith="burst-").count()
    tag = f"{first:07d}"
    level = MemberLevel.objects.filter(min_points=0).order_by("level").first()
    department = Department.objects.create(code=f"burst{tag}", name=f"压测科室{tag}")
    doctor = Doctor.objects.create(
        name="压测医生", department=department, title=DoctorTitle.CHIEF, registration_fee=rh.FEE
    )
    password = make_password(secrets.token_urlsafe(16))
    users = User.objects.bulk_create(
        [User(username=f"burst-{first + i:07d}", password=password) for i in range(count)]
    )
    members = Member.objects.bulk_create(
        [
            Member(
                user=user,
                name=f"压测会员{first + i}",
                phone=f"+86171{first + i:08d}",
                phone_verified=True,
                level=level,
            )
            for i, user in enumerate(users)
        ]
    )
    Patient.objects.bulk_create(
        [Patient(member=m, name=m.name, relation=Relation.SELF) for m in members]
    )
    # Every current agreement accepted (the demo clinic publishes them; booking asks for the
    # sensitive-information one), as sign-up and the consent page record it.
    agreements = list(consents.current_agreements().values())
    Consent.objects.bulk_create(
        [
            Consent(
                user=user, agreement=a, kind=a.kind, version=a.version, accepted_at=timezone.now()
            )
            for user in users
            for a in agreements
        ]
    )
    sensitive = consents.current_agreement(kind="sensitive")
    now = int(time.time())
    engine = importlib.import_module(settings.SESSION_ENGINE)
    visitors, rows = [], []
    store = engine.SessionStore()
    in_table = settings.SESSION_ENGINE.endswith((".db", ".cached_db"))
    for i, (user, member) in enumerate(zip(users, members, strict=True)):
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[-1],
            "_auth_user_hash": user.get_session_auth_hash(),
            middleware.SESSION_KIND: "member",
            middleware.SESSION_STARTED: now,
            middleware.SESSION_SEEN: now,
            middleware.SESSION_EPOCH: user.session_epoch,
        }
        if sensitive is not None:
            data[consents.SENSITIVE_SESSION_KEY] = sensitive.pk
        if in_table:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            rows.append(
                Session(
                    session_key=key,
                    session_data=store.encode(data),
                    expire_date=timezone.now() + dt.timedelta(days=1),
                )
            )
        else:
            one = engine.SessionStore()
            one.update(data)
            one.create()
            key = one.session_key
        address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        visitors.append(rh.Visitor(member.pk, key, csrf, address))
    Session.objects.bulk_create(rows)
    return visitors, doctor.pk


# -- one case ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: str
    note: str
    seconds: float
    posts: Counter
    gets: Counter
    appointments: int
    capacity: int
    problems: list[str]
    notes: list[str]  # what the kill case costs, reported, not a failure
    lost: int  # appointments whose member was not told about them
    unanswered_winners: int  # members told "booked" without such an appointment
    haproxy: Counter  # retries, redispatches, 5xx sent during the case


def classify(status: int, body: str, location: str, sold_out: str, followed: bool) -> str:
    if status == 0:
        return "no answer"
    if status >= 500:
        return "5xx"
    if status == 302 and re.fullmatch(r"/appointments/\d+/pay/", location):
        return "won"
    if status == 302 and re.fullmatch(r"/appointments/\d+/", location):
        return "already"
    if status == 302 and location == "/appointments/":
        return "on its way"
    if status == 409 and sold_out in body:
        return "sold out"
    if status == 200 and followed and sold_out in body:
        return "sold out"
    return f"other {status}"


def run_case(case: str, args, cluster: Cluster, visitors, doctor_id: int, sold_out: str) -> Outcome:
    from appointments.choices import ACTIVE_STATUSES
    from appointments.models import Appointment, Schedule
    from billing.models import Order

    # Sessions from three days ahead: outside the free-cancellation cutoff (24 h), whose
    # booking page asks for one more tick.
    rh._dates_used = max(rh._dates_used, 2)
    schedule_id = rh.new_session(doctor_id, args.capacity)
    book = f"/book/{schedule_id}/"
    page = f"/doctors/{doctor_id}/"
    # Warm-up, outside the figures: the doctor's page and the booking page seen by a few
    # members on every instance (as members look before the release).
    warm = [(path, v) for v in visitors[:30] for path in (page, book)]
    asyncio.run(
        rh.fire(
            cluster.base,
            [("GET", path, v.headers(post=False), None) for path, v in warm],
            lambda *_: "ok",
            NoServer(),
        )
    )
    requests, kinds, whose = [], [], []
    for i, v in enumerate(visitors):
        whose.append(v)
        requests.append(
            ("POST", book, v.headers(post=True, referer=book), f"csrfmiddlewaretoken={v.csrf}")
        )
        kinds.append("post")
        if i % args.pages_every == 0:
            whose.append(v)
            requests.append(("GET", page, v.headers(post=False), None))
            kinds.append("get")
    strike = Strike(case, args.fault_after / 1000, cluster) if case != "none" else None
    before = haproxy_counters(cluster.stats)

    def judge(status, body, location, followed):
        return classify(status, body, location, sold_out, followed)

    results, _, _, _, wall = asyncio.run(rh.fire(cluster.base, requests, judge, NoServer(), strike))
    if strike is not None:
        strike.heal()
    haproxy = haproxy_counters(cluster.stats)
    haproxy.subtract(before)
    posts = Counter(r.outcome for r, k in zip(results, kinds, strict=True) if k == "post")
    gets = Counter(
        "200" if r.status == 200 else ("no answer" if r.status == 0 else str(r.status))
        for r, k in zip(results, kinds, strict=True)
        if k == "get"
    )
    told: dict[int, int] = {}  # member → appointment id they were told about
    on_its_way = set()  # members sent to their appointment list ("on its way")
    winners = []
    for v, r, k in zip(whose, results, kinds, strict=True):
        if k == "post" and r.outcome == "on its way":
            on_its_way.add(v.member_id)
        if k == "post" and r.outcome in ("won", "already"):
            told[v.member_id] = int(r.location.split("/")[2])
            if r.outcome == "won":
                winners.append((v, r.location))
    schedule = Schedule.objects.get(pk=schedule_id)
    active = Appointment.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES)
    held = dict(active.values_list("member_id", "pk"))
    numbers = sorted(active.values_list("queue_number", flat=True))
    problems = []
    if schedule.booked > schedule.capacity or len(held) > schedule.capacity:
        problems.append(f"oversold: booked {schedule.booked}, {len(held)} active")
    if schedule.booked != len(held):
        problems.append(f"booked {schedule.booked} but {len(held)} active appointments")
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"queue numbers {numbers} are not 1..{len(numbers)}")
    orders = Order.objects.filter(appointment__in=active).count()
    if orders != len(held):
        problems.append(f"{len(held)} appointments but {orders} orders")
    # A booking is lost to its member when the answer did not lead them to it ("on its way"
    # does: the appointment list it sends them to shows it).
    lost = sum(
        1 for member, pk in held.items() if told.get(member) != pk and member not in on_its_way
    )
    unanswered = sum(1 for member, pk in told.items() if held.get(member) != pk)
    cashier = rh.follow_to_cashier(cluster.base, winners)
    if cashier.get("cashier 200", 0) != len(winners):
        problems.append(f"winners at the cashier: {dict(cashier)} of {len(winners)}")
    # A killed booking holds its unit of the gate's stock until its mark expires: reported for
    # that case, a failure for the others.
    notes: list[str] = []
    if len(held) < args.capacity and posts.get("sold out"):
        (notes if case == "kill" else problems).append(
            f"{args.capacity - len(held)} slot(s) left free while {posts['sold out']} were told "
            "sold out"
        )
    return Outcome(
        case,
        strike.note if strike else "",
        wall,
        posts,
        gets,
        len(held),
        args.capacity,
        problems,
        notes,
        lost,
        unanswered,
        haproxy,
    )


def failures(o: Outcome) -> int:
    """Requests answered with a 5xx, not answered, or answered with anything unexpected."""
    expected = ("won", "already", "sold out", "on its way")
    return sum(n for k, n in o.posts.items() if k not in expected) + sum(
        n for k, n in o.gets.items() if k != "200"
    )


def report(args, outcomes: list[Outcome], load_before: str) -> None:
    load_after = Path("/proc/loadavg").read_text().split()[0]
    print()
    print(
        f"{args.members} members POST /book/ (and every {args.pages_every}. one GET /doctors/) "
        f"per case, capacity "
        f"{args.capacity}, fault {args.fault_after} ms into the burst; {os.cpu_count()} cores, "
        f"load average before {load_before}, after {load_after}"
    )
    print()
    print(
        "| case | bookings / capacity | won + already booked | sold out | on its way | 5xx "
        "| no answer | other | pages 200 / 5xx / no answer | lost bookings | told booked, "
        "none held | oversold | HAProxy retries / to another / 5xx sent | burst s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        other = sum(
            n
            for k, n in o.posts.items()
            if k not in ("won", "already", "sold out", "on its way", "5xx", "no answer")
        )
        page_5xx = sum(n for k, n in o.gets.items() if k.startswith("5"))
        print(
            f"| {o.case} | {o.appointments} / {o.capacity} | {o.posts['won']} + "
            f"{o.posts['already']} | {o.posts['sold out']} | {o.posts['on its way']} | "
            f"{o.posts['5xx']} | {o.posts['no answer']} | {other} | {o.gets['200']} / "
            f"{page_5xx} / {o.gets['no answer']} | {o.lost} | {o.unanswered_winners} | "
            f"{max(0, o.appointments - o.capacity)} | {o.haproxy['retries']} / "
            f"{o.haproxy['redispatches']} / {o.haproxy['5xx sent']} | {o.seconds:.1f} |"
        )
    for o in outcomes:
        odd = {k: n for k, n in (o.posts + o.gets).items() if k.startswith("other")}
        line = f"{o.case}: {o.note or 'no fault'}"
        if odd:
            line += f"; other answers {odd}"
        if o.notes:
            line += f"; {'; '.join(o.notes)}"
        if o.problems:
            line += f"; PROBLEMS {o.problems}"
        print(line)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--capacity", type=int, default=30)
    parser.add_argument("--cases", default="none,replica,term,kill")
    parser.add_argument("--fault-after", type=int, default=300, metavar="MS")
    parser.add_argument(
        "--pages-every",
        type=int,
        default=3,
        metavar="K",
        help="every K-th member also GETs the doctor's page (read from the replica) in the burst",
    )
    parser.add_argument("--port", type=int, default=8160, help="HAProxy's")
    parser.add_argument("--web-port", type=int, default=8161, help="the first web instance's")
    parser.add_argument("--pg-port", type=int, default=55462, help="the primary's (replica +1)")
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--queue", default="medbook-cluster-burst")
    parser.add_argument("--attach", action="store_true", help="use a running cluster")
    args = parser.parse_args()
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {CASES}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.log_dir = ROOT / "var" / "bench" / f"cluster_burst-{stamp}-{os.getpid()}"
    args.log_dir.mkdir(parents=True, exist_ok=True)
    return args


def main() -> int:
    args = parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[0]
    env = cluster_environment(args)
    os.environ.update(env)
    began = time.monotonic()
    cluster = Cluster(args, env)
    print(f"cluster on {cluster.base} (log {cluster.log})", flush=True)
    outcomes: list[Outcome] = []
    problems: list[str] = []
    try:
        waited = cluster.wait_all_up()
        print(f"cluster up in {waited:.0f} s", flush=True)
        import django

        django.setup()
        from django.utils import translation

        from appointments import exceptions as appointment_errors

        with translation.override("zh-hans"):
            sold_out = rh.html.escape(str(appointment_errors.SoldOut()))
        for case in args.cases:
            # Members of their own per case (a level allows a couple of active bookings).
            visitors, doctor_id = seed(args.members)
            outcome = run_case(case, args, cluster, visitors, doctor_id, sold_out)
            outcomes.append(outcome)
            print(
                f"{case}: {dict(outcome.posts)}, pages {dict(outcome.gets)}, "
                f"{outcome.appointments} booked, {outcome.lost} lost"
                + (f"; PROBLEMS {outcome.problems}" if outcome.problems else ""),
                flush=True,
            )
            must_pass = case != "kill"
            if outcome.problems:
                problems += [f"{case}: {p}" for p in outcome.problems]
            if must_pass and (failures(outcome) or outcome.lost or outcome.unanswered_winners):
                problems.append(
                    f"{case}: {failures(outcome)} failed request(s), {outcome.lost} lost, "
                    f"{outcome.unanswered_winners} told booked without a booking"
                )
            cluster.wait_all_up(120)  # the instance back (dev.py restarts it), the replica too
            time.sleep(3)  # HAProxy's checks take it back (rise 2)
        problems += rh.check_integrity()
    finally:
        cluster.stop()
    report(args, outcomes, load_before)
    log = cluster.log.read_text(errors="replace") if cluster.log.exists() else ""
    tracebacks = log.count("Traceback (most recent call last)")
    print(f"total {time.monotonic() - began:.0f} s; tracebacks in the cluster's log: {tracebacks}")
    if problems:
        print("\nBROKEN:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
