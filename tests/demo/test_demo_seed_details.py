"""The demo seed, second look: personal data, the release rule, the ledger and a frozen clock.

``test_demo_seed.py`` checks counts, idempotency and the booking invariants at the real time of
day. These tests check what it leaves out: that the bulk inserts still encrypt and index personal
data, that schedules follow the release rule, that every appointment agrees with its session's
time, that each paid visit earned its points, and (with the clock frozen on a weekday morning,
while sessions are running) that every status of an appointment shows up, ``checked_in`` too.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from appointments.choices import (
    ACTIVE_STATUSES,
    UPCOMING_STATUSES,
    AppointmentStatus,
    ScheduleStatus,
)
from appointments.models import Appointment, Schedule
from medbook.crypto import blind_index
from medbook.personal_data import normalize_phone, validate_national_id
from members.models import NATIONAL_ID_PURPOSE, Member, MemberLevel, PointsEntry, User
from members.selectors import member_by_phone

pytestmark = [pytest.mark.core, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday, while the morning sessions run and before the afternoon ones start.
MORNING = dt.datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)
SMALL = {"members": 40, "appointments": 300}


def seed(*, at: dt.datetime | None = None, **sizes: int) -> str:
    """Run seed_demo (pretending it is ``at`` if given) and return what it printed."""
    out = io.StringIO()
    options = {**SMALL, **sizes, "stdout": out}
    if at is not None:
        options["now"] = at
    call_command("seed_demo", **options)
    return out.getvalue()


@pytest.fixture
def seeded_now() -> dt.datetime:
    seed()
    return timezone.now()


@pytest.fixture
def morning() -> dt.datetime:
    seed(at=MORNING)
    return MORNING


def test_a_running_morning_shows_every_status_including_checked_in(morning) -> None:
    statuses = Counter(Appointment.objects.values_list("status", flat=True))
    assert set(statuses) == set(AppointmentStatus.values)
    assert statuses[AppointmentStatus.COMPLETED] > statuses[AppointmentStatus.NO_SHOW]
    checked_in = Appointment.objects.filter(status=AppointmentStatus.CHECKED_IN)
    assert set(checked_in.values_list("schedule__date", flat=True)) == {morning.date()}


def test_every_appointment_agrees_with_its_session_and_its_clock(morning) -> None:
    today = morning.date()
    rows = Appointment.objects.select_related("schedule", "member")
    assert rows.exists()
    for appointment in rows:
        schedule = appointment.schedule
        status = appointment.status
        assert appointment.estimated_time == schedule.estimated_time(appointment.queue_number)
        assert appointment.fee == schedule.fee
        assert appointment.created_at <= morning
        assert appointment.created_at >= appointment.member.registered_at
        if schedule.date < today:
            assert status not in UPCOMING_STATUSES, appointment.pk
        if status in (AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN):
            assert schedule.date <= today
            assert appointment.checked_in_at is not None
        if status == AppointmentStatus.COMPLETED:
            assert schedule.starts_at <= morning
        if status == AppointmentStatus.NO_SHOW:
            assert schedule.ends_at <= morning
        if status in (AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_PAYMENT):
            assert schedule.ends_at > morning
        if status == AppointmentStatus.PENDING_PAYMENT:
            assert schedule.fee > 0
            assert morning - appointment.created_at <= dt.timedelta(minutes=10)
            assert appointment.confirmed_at is None
        elif status not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
            assert appointment.confirmed_at is not None
        if status == AppointmentStatus.CANCELLED:
            assert appointment.cancel_reason
            assert appointment.cancelled_by_id == appointment.member.user_id
            assert appointment.created_at <= appointment.cancelled_at <= morning
        else:
            assert appointment.cancelled_at is None
            assert appointment.cancel_reason == ""
        if status == AppointmentStatus.COMPLETED:
            assert appointment.completed_at is not None
        moments = [
            moment
            for moment in (
                appointment.created_at,
                appointment.confirmed_at,
                appointment.checked_in_at,
                appointment.completed_at,
            )
            if moment is not None
        ]
        assert moments == sorted(moments), appointment.pk
        assert moments[-1] <= morning


def test_schedules_follow_the_release_rule_and_fit_their_sessions(seeded_now) -> None:
    today = timezone.localdate(seeded_now)
    schedules = list(Schedule.objects.all())
    assert {s.date for s in schedules if s.date >= today} == {
        today + dt.timedelta(days=n) for n in range(14)
    }
    for schedule in schedules:
        release = dt.datetime.combine(schedule.date - dt.timedelta(days=7), dt.time(8), SHANGHAI)
        assert schedule.release_at == release
        if schedule.date < today:
            assert schedule.status == ScheduleStatus.FINISHED
        else:
            assert schedule.status in (ScheduleStatus.PUBLISHED, ScheduleStatus.SUSPENDED)
        start = dt.datetime.combine(schedule.date, schedule.start_time)
        end = dt.datetime.combine(schedule.date, schedule.end_time)
        assert start + dt.timedelta(minutes=schedule.capacity * schedule.minutes_per_visit) <= end
    suspended = [s for s in schedules if s.status == ScheduleStatus.SUSPENDED]
    assert suspended
    for schedule in suspended:
        assert schedule.date > today
        assert schedule.suspended_reason == "医生临时外出会诊"
        assert schedule.booked == 0
        assert not schedule.appointments.filter(status__in=ACTIVE_STATUSES).exists()
    assert any(s.release_at > seeded_now for s in schedules), "some are not open yet"
    assert any(s.fee == 0 for s in schedules), "a free clinic"


def test_bulk_inserted_personal_data_is_valid_encrypted_and_indexed(seeded_now) -> None:
    members = list(Member.objects.select_related("user"))
    phones = [m.phone for m in members]
    assert len(set(phones)) == len(phones)
    for phone in phones[:10]:
        assert normalize_phone(phone) == phone
        assert phone.startswith("+861") and len(phone) == 14
    with_id = [m for m in members if m.national_id]
    assert 0.4 <= len(with_id) / len(members) <= 0.6
    assert len({m.national_id for m in with_id}) == len(with_id)
    for member in with_id:
        assert validate_national_id(member.national_id) == member.national_id
        assert member.national_id[6:14] == f"{member.birth_date:%Y%m%d}"
        assert (int(member.national_id[16]) % 2 == 1) == (member.gender == "male")
        assert member.national_id_index == blind_index(
            member.national_id, purpose=NATIONAL_ID_PURPOSE
        )
    sample = with_id[0]
    assert member_by_phone(sample.phone[3:]) == sample, "the phone's blind index was computed"
    with connection.cursor() as cursor:
        cursor.execute("select phone, national_id from members_member where id = %s", [sample.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert raw_phone.startswith("v1$") and sample.phone[3:] not in raw_phone
    assert raw_id.startswith("v1$") and sample.national_id not in raw_id
    assert all(len(m.name) in (2, 3, 4) for m in members)
    demo_users = User.objects.filter(pk__in=[m.user_id for m in members])
    assert demo_users.values("password").distinct().count() == 1, "one shared password hash"
    assert demo_users.first().check_password("medbook123")


def test_each_paid_visit_earns_its_points_and_the_ledger_runs_in_order(seeded_now) -> None:
    multipliers = set(MemberLevel.objects.values_list("points_multiplier", flat=True))
    assert multipliers == {Decimal("1.00"), Decimal("1.20"), Decimal("1.50"), Decimal("2.00")}
    visits = Counter(PointsEntry.objects.filter(reason="visit").values_list("reference", flat=True))
    deltas = dict(PointsEntry.objects.filter(reason="visit").values_list("reference", "delta"))
    paid = Appointment.objects.filter(status=AppointmentStatus.COMPLETED, fee__gt=0)
    assert paid.exists()
    for pk, amount in paid.values_list("pk", "order__amount"):
        reference = f"appointment:{pk}"
        assert visits[reference] == 1
        assert deltas[reference] in {int(amount * m) for m in multipliers}
    assert sum(visits.values()) == paid.count(), "no points for free or unfinished visits"
    assert PointsEntry.objects.filter(reason="adjustment").exclude(note="").exists()

    entries: dict[int, list[PointsEntry]] = defaultdict(list)
    for entry in PointsEntry.objects.order_by("created_at", "id"):
        entries[entry.member_id].append(entry)
    thresholds = list(MemberLevel.objects.order_by("-min_points"))
    for member in Member.objects.all():
        balance = 0
        for entry in entries[member.pk]:
            balance += entry.delta
            assert entry.balance_after == balance
            assert entry.created_at <= seeded_now
        assert member.points_balance == balance
        reached = next(level for level in thresholds if level.min_points <= balance)
        assert member.level_id == reached.pk


def test_checked_in_appointments_count_towards_the_level_limit() -> None:
    at = dt.datetime(2026, 11, 24, 8, 30, tzinfo=SHANGHAI)
    seed(at=at, members=10, appointments=300)
    upcoming = Counter(
        Appointment.objects.filter(
            status__in=UPCOMING_STATUSES, schedule__date__gte=at.date()
        ).values_list("member_id", flat=True)
    )
    for member in Member.objects.select_related("level"):
        assert upcoming[member.pk] <= member.level.max_active_appointments, member.pk
