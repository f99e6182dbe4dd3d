"""The demo seed, second look: personal data, the release rule, the ledger and a frozen clock.

``test_demo_seed.py`` checks counts, idempotency and the booking invariants at the real time of
day. These tests check what it leaves out: that the bulk inserts still encrypt and index personal
data, that schedules are what their templates and the release rule give, that every appointment
agrees with its session's time and with the booking and cancelling rules, that each paid visit
earned its points, and (with the clock frozen on a weekday morning, while sessions are running)
that every status of an appointment shows up, ``checked_in`` too.

Each class seeds the demo once for its tests (``tests.demo.seeding``); tests that need a seed of
their own (another moment, another size) make it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
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
from appointments.models import Appointment, Holiday, Schedule
from appointments.selectors import cancellation_cutoff, opens_at_for
from billing.services.orders import EXPIRED_HOLD_REASON
from demo.data import SUSPEND_AFTER_BOOKING_REASONS, SUSPEND_REASON
from medbook.crypto import blind_index
from medbook.personal_data import normalize_phone, validate_national_id
from medbook.roles import FRONT_DESK
from members.models import NATIONAL_ID_PURPOSE, Member, MemberLevel, PointsEntry, User
from members.selectors import member_by_phone
from tests.demo.seeding import seeded_for_group

HOLD = dt.timedelta(minutes=15)


def _canceller(appointment: Appointment) -> str:
    if appointment.cancelled_by_id == appointment.member.user_id:
        return "member"
    if appointment.cancelled_by_id is not None:
        return "staff"
    return "hold" if appointment.cancel_reason == EXPIRED_HOLD_REASON else "suspended"


pytestmark = [pytest.mark.core, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday, while the morning sessions run and before the afternoon ones start.
MORNING = dt.datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)
SMALL = {"members": 40, "appointments": 300}
# Two days before 元旦 2027 (a holiday of the demo clinic), at the same hour.
NEW_YEAR = dt.datetime(2026, 12, 30, 9, 30, tzinfo=SHANGHAI)


def seed(*, at: dt.datetime | None = None, **sizes: int) -> str:
    """Run seed_demo (pretending it is ``at`` if given) and return what it printed."""
    out = io.StringIO()
    options = {**SMALL, **sizes, "stdout": out}
    if at is not None:
        options["now"] = at
    call_command("seed_demo", **options)
    return out.getvalue()


class TestARunningMorning:
    """Seeded once, as if it were MORNING (sessions running)."""

    @pytest.fixture(scope="class")
    @classmethod
    def morning(cls, django_db_setup, django_db_blocker) -> Iterator[dt.datetime]:
        with seeded_for_group(django_db_blocker, **SMALL, now=MORNING):
            yield MORNING

    def test_a_running_morning_shows_every_status_including_checked_in(self, morning) -> None:
        statuses = Counter(Appointment.objects.values_list("status", flat=True))
        assert set(statuses) == set(AppointmentStatus.values)
        assert statuses[AppointmentStatus.COMPLETED] > statuses[AppointmentStatus.NO_SHOW]
        checked_in = Appointment.objects.filter(status=AppointmentStatus.CHECKED_IN)
        assert set(checked_in.values_list("schedule__date", flat=True)) == {morning.date()}

    def test_every_appointment_agrees_with_its_session_and_its_clock(self, morning) -> None:
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
                # By the member, by the front desk, or by MedBook (no user): an unpaid hold
                # that ran out, or a suspended session.
                by = appointment.cancelled_by_id
                if by is None:
                    hold = appointment.cancel_reason == EXPIRED_HOLD_REASON
                    assert hold or appointment.cancel_reason.startswith("停诊：")
                    if hold:
                        assert appointment.cancelled_at == appointment.created_at + HOLD
                elif by != appointment.member.user_id:
                    assert User.objects.get(pk=by).groups.filter(name=FRONT_DESK).exists()
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

    def test_members_book_when_their_level_may_and_cancel_before_their_cutoff(
        self, morning
    ) -> None:
        rows = Appointment.objects.select_related("schedule", "member__level")
        cancelled: Counter[str] = Counter()
        for appointment in rows:
            schedule, level = appointment.schedule, appointment.member.level
            # A level only rises, and a higher one opens earlier: this bound holds.
            assert appointment.created_at >= opens_at_for(schedule=schedule, level=level)
            if appointment.status == AppointmentStatus.CANCELLED:
                cancelled[_canceller(appointment)] += 1
                assert appointment.cancelled_at < schedule.starts_at
                own = appointment.cancelled_by_id == appointment.member.user_id
                if own and not level.can_cancel_late:
                    assert appointment.cancelled_at <= cancellation_cutoff(schedule)
        assert set(cancelled) == {"member", "staff", "hold", "suspended"}, cancelled

    def test_no_shows_are_marked_after_the_grace_the_sweep_waits(self, morning, settings) -> None:
        grace = dt.timedelta(minutes=settings.MEDBOOK_NO_SHOW_GRACE_MINUTES)
        no_shows = Appointment.objects.filter(status=AppointmentStatus.NO_SHOW)
        assert no_shows.exists()
        for appointment in no_shows.select_related("schedule"):
            assert appointment.no_show_at == appointment.schedule.ends_at + grace
            assert appointment.no_show_at <= morning


class TestSeededNow:
    """Seeded once, at the real time."""

    @pytest.fixture(scope="class")
    @classmethod
    def seeded_now(cls, django_db_setup, django_db_blocker) -> Iterator[dt.datetime]:
        with seeded_for_group(django_db_blocker, **SMALL):
            yield timezone.now()

    def test_schedules_follow_the_release_rule_and_fit_their_sessions(self, seeded_now) -> None:
        today = timezone.localdate(seeded_now)
        schedules = list(Schedule.objects.all())
        closed = set(Holiday.objects.values_list("date", flat=True))
        assert {s.date for s in schedules if s.date >= today} == {
            today + dt.timedelta(days=n) for n in range(14)
        } - closed
        for schedule in schedules:
            release = dt.datetime.combine(
                schedule.date - dt.timedelta(days=7), dt.time(8), SHANGHAI
            )
            assert schedule.release_at == release
            if schedule.date < today:
                assert schedule.status in (ScheduleStatus.FINISHED, ScheduleStatus.SUSPENDED)
            else:
                assert schedule.status in (ScheduleStatus.PUBLISHED, ScheduleStatus.SUSPENDED)
            start = dt.datetime.combine(schedule.date, schedule.start_time)
            end = dt.datetime.combine(schedule.date, schedule.end_time)
            assert (
                start + dt.timedelta(minutes=schedule.capacity * schedule.minutes_per_visit) <= end
            )
        suspended = [s for s in schedules if s.status == ScheduleStatus.SUSPENDED]
        assert suspended
        for schedule in suspended:
            if not schedule.appointments.exists():
                assert schedule.date > today
            assert schedule.suspended_reason in {SUSPEND_REASON, *SUSPEND_AFTER_BOOKING_REASONS}
            assert schedule.booked == 0
            assert not schedule.appointments.filter(status__in=ACTIVE_STATUSES).exists()
        assert any(s.release_at > seeded_now for s in schedules), "some are not open yet"
        assert any(s.fee == 0 for s in schedules), "a free clinic"

    def test_sessions_are_what_their_templates_give(self, seeded_now) -> None:
        schedules = Schedule.objects.select_related("template", "doctor")
        assert schedules.exists()
        for schedule in schedules:
            template = schedule.template
            assert template is not None
            assert schedule.doctor_id == template.doctor_id
            assert schedule.date.weekday() == template.weekday
            assert (schedule.session, schedule.start_time, schedule.end_time) == (
                template.session,
                template.start_time,
                template.end_time,
            )
            assert (schedule.capacity, schedule.minutes_per_visit, schedule.room) == (
                template.capacity,
                template.minutes_per_visit,
                template.room,
            )
            fee = template.fee if template.fee is not None else schedule.doctor.registration_fee
            assert schedule.fee == fee

    def test_bulk_inserted_personal_data_is_valid_encrypted_and_indexed(self, seeded_now) -> None:
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
            cursor.execute(
                "select phone, national_id from members_member where id = %s", [sample.pk]
            )
            raw_phone, raw_id = cursor.fetchone()
        assert raw_phone.startswith("v1$") and sample.phone[3:] not in raw_phone
        assert raw_id.startswith("v1$") and sample.national_id not in raw_id
        assert all(len(m.name) in (2, 3, 4) for m in members)
        demo_users = User.objects.filter(pk__in=[m.user_id for m in members])
        assert demo_users.values("password").distinct().count() == 1, "one shared password hash"
        assert demo_users.first().check_password("medbook123")

    def test_each_paid_visit_earns_its_points_and_the_ledger_runs_in_order(
        self, seeded_now
    ) -> None:
        multipliers = set(MemberLevel.objects.values_list("points_multiplier", flat=True))
        assert multipliers == {Decimal("1.00"), Decimal("1.20"), Decimal("1.50"), Decimal("2.00")}
        visits = Counter(
            PointsEntry.objects.filter(reason="visit").values_list("reference", flat=True)
        )
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
            # The level: what the rule gives for the qualifying points (redemptions don't
            # count), never below the level joined with; the history records each step.
            qualifying = sum(e.delta for e in entries[member.pk] if e.reason != "redemption")
            reached = next(level for level in thresholds if level.min_points <= qualifying)
            history = list(member.history.order_by("history_date", "history_id"))
            assert history[0].history_type == "+"
            assert history[-1].level_id == member.level_id
            assert member.level.level >= reached.level
            assert member.level.level == reached.level or len(history) == 1
        assert PointsEntry.objects.filter(reason="redemption").exists()
        assert Member.history.filter(history_type="~").exists(), "some members were upgraded"


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


def test_the_clinic_has_no_sessions_on_its_holidays() -> None:
    seed(at=NEW_YEAR, members=10, appointments=50)
    today = NEW_YEAR.date()
    new_year = dt.date(2027, 1, 1)
    assert Holiday.objects.filter(date=new_year).exists()
    dates = set(Schedule.objects.filter(date__gte=today).values_list("date", flat=True))
    assert new_year not in dates
    fortnight = {today + dt.timedelta(days=n) for n in range(14)}
    assert dates == fortnight - {new_year}
