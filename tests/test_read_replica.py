"""The read/write split on a real streaming replica (tests/replica.py): reads of the pages that
only show go to the replica, a member who just booked sees the booking on the next page (the
pin), pages keep working with the replica stopped, and booking stays exact with the router on."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import services
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from medbook import db_router
from members.models import Member, MemberLevel
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.members.factories import MemberFactory
from tests.replica import Cluster

# transaction=True: pytest-django sets up the test database (which the cluster's primary copies)
# only for tests that ask for it, and a test runs outside any transaction of its own.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _level() -> MemberLevel:
    level, _ = MemberLevel.objects.get_or_create(
        level=1,
        defaults={
            "name": "普通会员",
            "min_points": 0,
            "booking_lead_hours": 0,
            "discount_rate": Decimal("1.00"),
            "max_active_appointments": 5,
        },
    )
    return level


def _member() -> Member:
    return MemberFactory(level=_level())


def _wait_replayed(cluster: Cluster) -> None:
    """Until the replica has replayed everything the primary wrote so far. The test cluster
    commits asynchronously: a commit's record may still be in the WAL buffers, past the
    write position (``pg_current_wal_lsn``), so the wait is for the insert position."""
    lsn = cluster.sql(cluster.primary_port, "SELECT pg_current_wal_insert_lsn()")
    for _ in range(200):
        caught_up = cluster.sql(
            cluster.replica_port, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"
        )
        if caught_up == "t":
            return
        threading.Event().wait(0.05)
    raise AssertionError("the replica did not catch up")


def _replica_queries(client: Client, url: str) -> tuple[int, int]:
    """(status, reads of MedBook's tables run on the replica) of a GET of ``url`` (not the
    router's own lag and connection checks)."""
    with CaptureQueriesContext(connections[db_router.REPLICA]) as replica:
        response = client.get(url)
    reads = [q for q in replica.captured_queries if 'FROM "' in q["sql"]]
    return response.status_code, len(reads)


def test_it_reads_the_pages_that_show_from_the_replica(on_replica_cluster: Cluster) -> None:
    schedule = ScheduleFactory(doctor__name="复制医生")
    member = _member()
    client = Client()
    client.force_login(member.user)  # its rows replayed before the pages are read
    _wait_replayed(on_replica_cluster)

    # The member, their level and bookings (the doctor and sessions come from the cache, which
    # is filled from the primary); the appointment list wholly.
    doctor = _replica_queries(
        client, reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    )
    listing = _replica_queries(client, reverse("billing:appointments"))

    assert doctor[0] == listing[0] == 200
    assert doctor[1] >= 2
    assert listing[1] >= 2
    with connections[db_router.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')")
        assert cursor.fetchone() == (True, str(on_replica_cluster.replica_port))
    # A page that decides (the booking confirmation) never reads the replica.
    status, on_replica = _replica_queries(client, reverse("billing:book", args=[schedule.pk]))
    assert (status, on_replica) == (200, 0)


def test_a_member_who_just_booked_sees_it_on_the_next_page(on_replica_cluster: Cluster) -> None:
    cluster = on_replica_cluster
    schedule = ScheduleFactory(doctor__name="钟南山", capacity=3)
    member = _member()
    client = Client()
    client.force_login(member.user)
    # A second browser of the same member, logged in (its login written) before the replica
    # falls behind: only the booking is missing from what it reads.
    unpinned = Client()
    unpinned.force_login(member.user)
    _wait_replayed(cluster)
    doctor_page = reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    assert _replica_queries(client, doctor_page)[1] > 0  # not pinned yet: the replica
    # The replica stops replaying: from now on it is behind, as a busy one may be.
    cluster.sql(cluster.replica_port, "SELECT pg_wal_replay_pause()")
    try:
        booked = client.post(reverse("billing:book", args=[schedule.pk]))
        appointment = Appointment.objects.get(member=member, schedule=schedule)

        assert booked.status_code == 302
        assert db_router.PIN_COOKIE in booked.cookies
        listing = client.get(reverse("billing:appointments"))
        detail = client.get(reverse("billing:appointment_detail", args=[appointment.pk]))
        status, on_replica = _replica_queries(client, doctor_page)
        assert "钟南山" in listing.content.decode()
        assert detail.status_code == 200
        assert (status, on_replica) == (200, 0)
        assert "剩余 2 个号" in client.get(doctor_page).content.decode()
        # The same member without the pin reads the stale replica: what the pin prevents.
        stale = unpinned.get(reverse("billing:appointments"))
        assert stale.status_code == 200
        assert "钟南山" not in stale.content.decode()
        # A visitor whose reads go to the (stale) replica fills the emptied doctor-page cache
        # from the primary: the cache never keeps what the booking just invalidated.
        cache.clear()
        assert "剩余 2 个号" in Client().get(doctor_page).content.decode()
    finally:
        cluster.sql(cluster.replica_port, "SELECT pg_wal_replay_resume()")


def test_pages_keep_working_when_the_replica_stops(on_replica_cluster: Cluster) -> None:
    cluster = on_replica_cluster
    schedule = ScheduleFactory()
    appointment = services.book_appointment(
        member=_member(), schedule=schedule, channel=Channel.WEB
    )
    client = Client()
    client.force_login(appointment.member.user)  # a login writes (last login): replayed too
    _wait_replayed(cluster)
    pages = [
        reverse("appointments:home"),
        reverse("appointments:doctor_detail", args=[schedule.doctor_id]),
        reverse("billing:appointments"),
        reverse("billing:appointment_detail", args=[appointment.pk]),
    ]
    assert [client.get(page).status_code for page in pages] == [200] * 4
    cluster.stop_replica()
    try:
        statuses = [client.get(page).status_code for page in pages]
        anonymous = Client().get(pages[1]).status_code
        state = db_router.state.reason
    finally:
        cluster.start_replica()
        db_router.state.reset()

    assert statuses == [200] * 4
    assert anonymous == 200
    assert state.startswith("down")


def test_a_page_whose_replica_dies_mid_request_is_served_from_the_primary(
    on_replica_cluster: Cluster, monkeypatch
) -> None:
    cluster = on_replica_cluster
    schedule = ScheduleFactory(doctor__name="中途医生")
    _wait_replayed(cluster)
    page = reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    client = Client()
    assert client.get(page).status_code == 200  # the replica is in use
    # The request checks the replica's connection and finds it fine; it dies right after.
    monkeypatch.setattr(db_router.ReplicaState, "_connected", lambda self: _verify())
    cluster.stop_replica()
    try:
        cache.clear()  # the doctor's page from the database, not from the cache
        response = client.get(page)
        state = db_router.state.reason
    finally:
        cluster.start_replica()
        db_router.state.reset()

    assert response.status_code == 200
    assert "中途医生" in response.content.decode()
    assert state.startswith("down")


def _verify() -> bool:
    verified = db_router._verified.get()
    if verified is not None:
        verified[0] = True
    return True


def test_booking_stays_exact_with_the_router_on(on_replica_cluster: Cluster) -> None:
    cluster = on_replica_cluster
    schedule = ScheduleFactory(capacity=5, date=dt.date.today() + dt.timedelta(days=4))
    members = [_member() for _ in range(16)]
    _wait_replayed(cluster)
    # A stale replica: any booking read that leaked to it would miss the others' bookings.
    cluster.sql(cluster.replica_port, "SELECT pg_wal_replay_pause()")
    barrier = threading.Barrier(len(members))
    results: list[object] = [None] * len(members)

    def book(index: int, member_id: int) -> None:
        # The member and session as the view has them (read before the replica's pause shows:
        # what is under test is the booking's own reads), then the booking as inside a request
        # whose reads may go to the replica: the worst case.
        member = Member.objects.using("default").get(pk=member_id)
        target = Schedule.objects.using("default").get(pk=schedule.pk)
        token = db_router._replica_reads.set(True)
        try:
            barrier.wait()
            results[index] = services.book_appointment(
                member=member, schedule=target, channel=Channel.WEB
            )
        except Exception as exc:
            results[index] = exc
        finally:
            db_router._replica_reads.reset(token)
            connections.close_all()

    threads = [threading.Thread(target=book, args=(i, m.pk)) for i, m in enumerate(members)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        cluster.sql(cluster.replica_port, "SELECT pg_wal_replay_resume()")

    won = [r for r in results if isinstance(r, Appointment)]
    refused = [getattr(r, "code", repr(r)) for r in results if not isinstance(r, Appointment)]
    assert len(won) == 5
    assert set(refused) == {"sold_out"}, [
        repr(r) for r in results if getattr(r, "code", "") != "sold_out"
    ]
    assert Schedule.objects.get(pk=schedule.pk).booked == 5
    assert (
        Appointment.objects.filter(
            schedule=schedule, status=AppointmentStatus.PENDING_PAYMENT
        ).count()
        == 5
    )
    assert_schedule_invariants(schedule.pk)


def test_without_a_replica_everything_reads_the_default_database() -> None:
    assert db_router.replica_configured() is False
    router = db_router.PrimaryReplicaRouter()
    token = db_router._replica_reads.set(True)
    try:
        assert router.db_for_read(Schedule) == "default"
    finally:
        db_router._replica_reads.reset(token)


def test_only_a_signed_pin_sends_reads_to_the_primary(on_replica_cluster: Cluster) -> None:
    member = _member()
    page = reverse("billing:appointments")
    forged = Client()
    # A login as the login page makes it pins the browser to the primary; force_login does
    # not, so the replica must have replayed the login's rows before the page is read.
    forged.force_login(member.user)
    _wait_replayed(on_replica_cluster)
    forged.cookies[db_router.PIN_COOKIE] = "1"  # not signed: ignored
    status, on_replica = _replica_queries(forged, page)
    assert status == 200
    assert on_replica >= 2

    posted = Client()
    posted.force_login(member.user)
    posted.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert db_router.PIN_COOKIE in posted.cookies
    assert _replica_queries(posted, page) == (200, 0)
