"""The rollups agree exactly with the raw tables: on random clinics (statuses, suspensions,
channels, level changes mid-period, bookings around Asia/Shanghai midnight; orders paid through
every gateway and refunds in part, in full, failed, pending or stray, around midnight and days
later) the figures are recomputed from the raw rows in Python and compared row by row; the
periodic refresh takes the clinic's date; the command rebuilds any range."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, ReleaseDemand, Schedule
from billing.choices import Gateway, RefundStatus
from billing.models import Order, Refund
from billing.services.orders import EXPIRED_HOLD_REASON
from medbook.errors import DomainError
from medbook.roles import FRONT_DESK
from members.models import Member, MemberLevel, PointsEntry, PointsReason
from reports import selectors, services
from reports.choices import Canceller, LeadTime
from reports.models import (
    DailyActiveMember,
    DailyBookingStat,
    DailyFlowStat,
    DailyLevelChange,
    DailyMemberStat,
    DailyPayerStat,
    DailyPointsStat,
    DailyReleaseStat,
    DailyRevenueStat,
    DailySessionStat,
    RollupState,
)
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.conftest import staff_user
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, order, refund, session, visit

pytestmark = pytest.mark.django_db

STATUSES = [value for value, _label in AppointmentStatus.choices]
GATEWAYS = [value for value, _label in Gateway.choices]
CHANNELS = [value for value, _label in Channel.choices]
FIRST_DAY = dt.date(2026, 3, 2)


def random_clinic(rng: random.Random, levels: dict, *, days: int = 10) -> None:
    """Doctors in two departments, sessions over ``days`` days (some suspended), members whose
    level changes mid-period, and appointments in every status and channel, many booked within
    minutes of midnight in Shanghai (16:00 UTC) and of a level change."""
    departments = [DepartmentFactory(), DepartmentFactory()]
    doctors = [DoctorFactory(department=rng.choice(departments)) for _ in range(4)]
    level_list = list(levels.values())
    members = []
    for _ in range(12):
        member = MemberFactory(level=rng.choice(level_list))
        joined(member, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        members.append(member)
    midnights = [
        dt.datetime.combine(FIRST_DAY + dt.timedelta(days=d), dt.time(0), tzinfo=SHANGHAI)
        for d in range(-5, days)
    ]
    for member in rng.sample(members, 6):  # level changes mid-period, some twice
        for moment in sorted(rng.sample(midnights, rng.randint(1, 2))):
            change_level(
                member,
                rng.choice(level_list),
                moment + dt.timedelta(seconds=rng.choice([-1, 0, 1, 3600])),
            )
    desk = staff_user(f"desk{rng.randint(0, 10**9)}", FRONT_DESK, mfa=False)
    # Who cancels: the member, staff, MedBook (hold ran out; session suspended).
    cancellers = [
        lambda m: (m.user, "不想去了"),
        lambda m: (desk, "患者来电取消"),
        lambda m: (None, EXPIRED_HOLD_REASON),
        lambda m: (None, "停诊：医生出差"),
    ]
    starts = [dt.time(8), dt.time(9, 30), dt.time(14), dt.time(15, 30)]
    for offset in range(days):
        day = FIRST_DAY + dt.timedelta(days=offset)
        for doctor in doctors:
            for start in rng.sample(starts, rng.randint(0, 2)):
                schedule = session(
                    doctor, day, start, capacity=rng.randint(1, 6), suspended=rng.random() < 0.15
                )
                session_start = dt.datetime.combine(day, start, tzinfo=SHANGHAI)
                for member in rng.sample(members, rng.randint(0, schedule.capacity)):
                    # Around a Shanghai midnight, or right at a lead-time boundary (24 h, 72 h,
                    # 7 days before the start, give or take a second).
                    if rng.random() < 0.5:
                        booked_at = rng.choice(midnights) + dt.timedelta(
                            seconds=rng.randint(-600, 600)
                        )
                    else:
                        booked_at = session_start - dt.timedelta(
                            hours=rng.choice([1, 24, 72, 168]), seconds=rng.choice([-1, 0, 1])
                        )
                    status = (
                        AppointmentStatus.CANCELLED
                        if schedule.status == "suspended"
                        else rng.choice(STATUSES)
                    )
                    by, reason = (
                        rng.choice(cancellers)(member)
                        if status == AppointmentStatus.CANCELLED
                        else (None, "")
                    )
                    visit(
                        schedule,
                        member,
                        status,
                        channel=rng.choice(CHANNELS),
                        booked_at=booked_at,
                        cancelled_by=by,
                        cancel_reason=reason,
                    )


def level_at(member_id: int, moment: dt.datetime) -> int:
    """The member's level at ``moment`` from their history rows, in Python."""
    rows = [row for row in Member.history.filter(id=member_id) if row.history_date <= moment]
    if not rows:
        return Member.objects.get(pk=member_id).level_id
    return max(rows, key=lambda row: (row.history_date, row.history_id)).level_id


def lead_time_of(a: Appointment) -> int:
    """The lead-time bucket, in Python: session start (Shanghai) − booked at."""
    starts = dt.datetime.combine(a.schedule.date, a.schedule.start_time, tzinfo=SHANGHAI)
    lead = starts - a.created_at
    if lead >= dt.timedelta(days=7):
        return LeadTime.OVER_7_DAYS
    if lead >= dt.timedelta(hours=72):
        return LeadTime.DAYS_3_7
    if lead >= dt.timedelta(hours=24):
        return LeadTime.DAYS_1_3
    return LeadTime.UNDER_24_HOURS


def canceller_of(a: Appointment) -> str:
    if a.status != "cancelled":
        return ""
    if a.cancelled_by_id is not None:
        who = Canceller.MEMBER if a.cancelled_by_id == a.member.user_id else Canceller.STAFF
    elif a.cancel_reason == EXPIRED_HOLD_REASON:
        who = Canceller.HOLD_EXPIRED
    else:
        who = Canceller.SUSPENDED
    return SPLIT[who]


SPLIT = {
    Canceller.MEMBER: "cancelled_by_member",
    Canceller.STAFF: "cancelled_by_staff",
    Canceller.HOLD_EXPIRED: "cancelled_hold_expired",
    Canceller.SUSPENDED: "cancelled_suspended",
}
OUTCOMES = ("booked", "cancelled", "no_show", "checked_in", "completed", *SPLIT.values())


def expected_from_raw(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    sessions: dict[tuple, Counter] = {}
    for s in Schedule.objects.filter(date__range=(start, end)).select_related("doctor"):
        key = (
            s.date,
            s.date.weekday(),
            s.doctor.department_id,
            s.doctor_id,
            s.session,
            s.start_time.hour,
        )
        figures = sessions.setdefault(key, Counter())
        if s.status == "suspended":
            figures["suspended_sessions"] += 1
        else:
            figures["sessions"] += 1
            figures["capacity"] += s.capacity
    bookings: dict[tuple, Counter] = {}
    rows = Appointment.objects.filter(schedule__date__range=(start, end)).select_related(
        "schedule__doctor", "member"
    )
    for a in rows:
        s = a.schedule
        key = (
            s.date,
            s.date.weekday(),
            s.doctor.department_id,
            s.doctor_id,
            s.session,
            s.start_time.hour,
            level_at(a.member_id, a.created_at),
            a.channel,
            lead_time_of(a),
        )
        figures = bookings.setdefault(key, Counter())
        if a.status == "cancelled":
            figures[canceller_of(a)] += 1
        figures["booked"] += a.status != "cancelled"
        figures["cancelled"] += a.status == "cancelled"
        figures["no_show"] += a.status == "no_show"
        figures["checked_in"] += a.checked_in_at is not None
        figures["completed"] += a.status == "completed"
    return sessions, bookings


def rollups(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    sessions = {
        (r.date, r.weekday, r.department_id, r.doctor_id, r.session, r.start_hour): Counter(
            {
                k: getattr(r, k)
                for k in ("sessions", "capacity", "suspended_sessions")
                if getattr(r, k)
            }
        )
        for r in DailySessionStat.objects.filter(date__range=(start, end))
    }
    bookings = {
        (
            r.date,
            r.weekday,
            r.department_id,
            r.doctor_id,
            r.session,
            r.start_hour,
            r.level_id,
            r.channel,
            r.lead_time,
        ): Counter({k: getattr(r, k) for k in OUTCOMES if getattr(r, k)})
        for r in DailyBookingStat.objects.filter(date__range=(start, end))
    }
    return sessions, bookings


def _clean(table: dict) -> dict:
    return {key: +figures for key, figures in table.items()}


def random_money(rng: random.Random) -> None:
    """Orders for most of the random clinic's appointments, through every gateway, at the
    member's level when booking: paid within the hold (often across a Shanghai midnight, as the
    bookings sit around it) or closed unpaid; refunds of the paid ones in part or in full,
    completed minutes to days later (some around midnight), failed or still asked; and late
    payments of closed holds sent straight back (stray)."""
    for a in Appointment.objects.select_related("member").order_by("pk"):
        if rng.random() < 0.2:
            continue  # free, or booked before orders: no order
        rate = MemberLevel.objects.get(pk=level_at(a.member_id, a.created_at)).discount_rate
        paid_at = (
            a.created_at + dt.timedelta(seconds=rng.randint(0, 900))
            if rng.random() < 0.75
            else None
        )
        paid = order(a, gateway=rng.choice(GATEWAYS), rate=rate, paid_at=paid_at)
        if paid_at is None:
            if rng.random() < 0.3:
                refund(
                    paid,
                    paid.amount,
                    completed_at=a.created_at + dt.timedelta(hours=1),
                    stray=f"LATE{paid.pk}",
                )
            continue
        left = paid.amount
        for _ in range(rng.randint(0, 2)):
            cents = rng.randint(1, int(left * 100)) if left > 0 else 0
            if not cents:
                break
            amount = Decimal(cents) / 100 if rng.random() < 0.6 else left
            status = rng.choice([RefundStatus.SUCCEEDED] * 3 + [RefundStatus.FAILED, "requested"])
            if status != RefundStatus.SUCCEEDED:
                refund(paid, amount, status=status, requested_at=paid_at)
                continue
            later = rng.choice(
                [
                    dt.timedelta(minutes=rng.randint(1, 30)),
                    dt.timedelta(days=rng.randint(1, 6), seconds=rng.randint(-60, 60)),
                ]
            )
            refund(paid, amount, completed_at=paid_at + later)
            left -= amount


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


MONEY = ("payments", "paid", "discount", "refunds", "refunded")


def money_from_raw(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    """The money and the payers of the days ``start``..``end`` from the raw orders and
    refunds, in Python: by the Shanghai day the money moved."""
    revenue: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(MONEY, 0))
    payers: dict[tuple, int] = defaultdict(int)

    def grain(a: Appointment, day: dt.date) -> tuple:
        s = a.schedule
        level = level_at(a.member_id, a.created_at)
        return (day, s.doctor.department_id, s.doctor_id, level, a.channel)

    orders = Order.objects.filter(paid_at__isnull=False).select_related(
        "appointment__schedule__doctor"
    )
    for o in orders:
        day = _day(o.paid_at)
        if not start <= day <= end:
            continue
        key = grain(o.appointment, day)
        figures = revenue[(*key, o.gateway)]
        figures["payments"] += 1
        figures["paid"] += o.amount
        figures["discount"] += o.original_amount - o.amount
        payers[(*key, o.appointment.member_id)] += 1
    refunds = Refund.objects.filter(status=RefundStatus.SUCCEEDED, stray_trade_no="")
    for r in refunds.select_related("order__appointment__schedule__doctor"):
        day = _day(r.completed_at)
        if not start <= day <= end:
            continue
        figures = revenue[(*grain(r.order.appointment, day), r.order.gateway)]
        figures["refunds"] += 1
        figures["refunded"] += r.amount
    return dict(revenue), dict(payers)


def money_rollups(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    revenue = {
        (r.date, r.department_id, r.doctor_id, r.level_id, r.channel, r.gateway): {
            name: getattr(r, name) for name in MONEY
        }
        for r in DailyRevenueStat.objects.filter(date__range=(start, end))
    }
    payers = {
        (r.date, r.department_id, r.doctor_id, r.level_id, r.channel, r.member_id): r.payments
        for r in DailyPayerStat.objects.filter(date__range=(start, end))
    }
    return revenue, payers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_money_rollups_equal_the_money_recomputed_from_the_raw_rows(levels, seed) -> None:
    rng = random.Random(seed)
    random_clinic(rng, levels)
    random_money(rng)
    last = FIRST_DAY + dt.timedelta(days=9)
    result = services.rebuild_rollups(start=FIRST_DAY, end=last)
    expected_revenue, expected_payers = money_from_raw(FIRST_DAY, last)
    got_revenue, got_payers = money_rollups(FIRST_DAY, last)
    assert got_revenue == expected_revenue
    assert got_payers == expected_payers
    assert (result.revenue_rows, result.payer_rows) == (len(got_revenue), len(got_payers))
    # The data set has what the test is about: both kinds, days beyond the range, strays.
    assert sum(f["refunds"] for f in got_revenue.values()) > 10
    assert any(f["paid"] and f["refunded"] for f in got_revenue.values())
    assert Refund.objects.exclude(stray_trade_no="").exists()
    outside = Order.objects.filter(paid_at__lt=services.money_window(FIRST_DAY, last)[0])
    assert outside.exists()
    # A rebuild of the whole span counts every payment and completed refund exactly once.
    services.rebuild_rollups(start=FIRST_DAY - dt.timedelta(days=10), end=last + dt.timedelta(10))
    totals = DailyRevenueStat.objects.aggregate(
        n=Sum("payments"), paid=Sum("paid"), back=Sum("refunded")
    )
    paid_orders = Order.objects.filter(paid_at__isnull=False)
    assert totals["n"] == paid_orders.count()
    assert totals["paid"] == paid_orders.aggregate(t=Sum("amount"))["t"]
    assert totals["back"] == Order.objects.aggregate(t=Sum("refunded_amount"))["t"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_the_figures_recomputed_from_the_raw_rows(levels, seed) -> None:
    random_clinic(random.Random(seed), levels)
    last = FIRST_DAY + dt.timedelta(days=9)
    result = services.rebuild_rollups(start=FIRST_DAY, end=last)
    expected_sessions, expected_bookings = expected_from_raw(FIRST_DAY, last)
    got_sessions, got_bookings = rollups(FIRST_DAY, last)
    assert got_sessions == _clean(expected_sessions)
    assert got_bookings == _clean(expected_bookings)
    assert (result.session_rows, result.booking_rows) == (len(got_sessions), len(got_bookings))
    assert (
        sum(f["booked"] + f["cancelled"] for f in got_bookings.values())
        == Appointment.objects.count()
    )


def test_a_rebuild_of_part_of_the_range_leaves_the_rest_and_twice_changes_nothing(levels) -> None:
    random_clinic(random.Random(7), levels)
    last = FIRST_DAY + dt.timedelta(days=9)
    services.rebuild_rollups(start=FIRST_DAY, end=last)
    before = rollups(FIRST_DAY, last)
    # A late change of one day's raw rows reaches the rollups when that day is rebuilt.
    changed = Appointment.objects.exclude(status="cancelled").order_by("pk").first()
    day = changed.schedule.date
    Appointment.objects.filter(pk=changed.pk).update(
        status="cancelled", checked_in_at=None, cancelled_by=changed.member.user
    )
    services.rebuild_rollups(start=day, end=day)
    services.rebuild_rollups(start=day, end=day)
    after = rollups(FIRST_DAY, last)
    assert after == tuple(_clean(t) for t in expected_from_raw(FIRST_DAY, last))
    untouched = [key for key in before[1] if key[0] != day]
    assert all(before[1][key] == after[1][key] for key in untouched)


def test_the_level_is_the_one_the_member_had_when_booking(levels) -> None:
    """A member who moved up a level at midnight in Shanghai: a booking a second before counts
    under the old level, one at midnight under the new one, whatever their level is now."""
    doctor = DoctorFactory()
    member = joined(MemberFactory(level=levels["普通"]), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    midnight = dt.datetime(2026, 3, 3, tzinfo=SHANGHAI)  # 2026-03-02 16:00 UTC
    change_level(member, levels["银卡"], midnight)
    change_level(member, levels["钻石"], dt.datetime(2026, 6, 1, tzinfo=SHANGHAI))
    morning = session(doctor, dt.date(2026, 3, 5), dt.time(8))
    visit(morning, member, "completed", booked_at=midnight - dt.timedelta(seconds=1))
    visit(
        session(doctor, dt.date(2026, 3, 5), dt.time(14)), member, "completed", booked_at=midnight
    )
    services.rebuild_rollups(start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 5))
    by_level = {
        (row.start_hour, row.level_id): row.booked for row in DailyBookingStat.objects.all()
    }
    assert by_level == {(8, levels["普通"].pk): 1, (14, levels["银卡"].pk): 1}


def test_the_periodic_refresh_takes_the_clinics_date(levels, settings) -> None:
    """At 00:30 in Shanghai (16:30 UTC the day before) the refresh covers the clinic's new day:
    a session that morning, and the days booked ahead, are rebuilt."""
    settings.MEDBOOK_REPORTS_DAYS_BACK = 1
    doctor = DoctorFactory()
    member = MemberFactory(level=levels["普通"])
    now = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)  # 2026-03-03 00:30 in Shanghai
    old = session(doctor, dt.date(2026, 3, 1), dt.time(8))
    today = session(doctor, dt.date(2026, 3, 3), dt.time(8))
    ahead = session(doctor, dt.date(2026, 3, 9), dt.time(8))
    for schedule in (old, today, ahead):
        visit(schedule, member, "confirmed", booked_at=now - dt.timedelta(days=3))
    assert services.recent_range(now=now) == (dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    services.refresh_recent_rollups(now=now)
    assert set(DailyBookingStat.objects.values_list("date", flat=True)) == {
        dt.date(2026, 3, 3),
        dt.date(2026, 3, 9),
    }
    assert RollupState.objects.get().refreshed_at == now


def test_the_job_runs_the_refresh(levels) -> None:
    from reports.tasks import refresh_report_rollups

    first, last = refresh_report_rollups.apply().get()
    assert first <= last


def test_the_command_rebuilds_a_range_in_chunks_and_refuses_a_bad_one(levels, capsys) -> None:
    doctor = DoctorFactory()
    member = MemberFactory(level=levels["普通"])
    for offset in (0, 40, 80):
        schedule = session(doctor, FIRST_DAY + dt.timedelta(days=offset), dt.time(8))
        visit(schedule, member, "completed", booked_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    call_command("rebuild_reports", "--from", "2026-03-01", "--to", "2026-06-30")
    assert "3 session rows, 3 booking rows" in capsys.readouterr().out
    assert DailyBookingStat.objects.count() == 3
    call_command("rebuild_reports")  # every day that has sessions
    assert DailySessionStat.objects.count() == 3
    with pytest.raises(CommandError):
        call_command("rebuild_reports", "--from", "2026-03-05", "--to", "2026-03-01")
    with pytest.raises(CommandError):
        call_command("rebuild_reports", "--from", "March")
    with pytest.raises(DomainError):
        services.rebuild_rollups(start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 1))


def test_a_rebuild_is_a_handful_of_statements(levels, django_assert_num_queries) -> None:
    """Lock, a delete and an INSERT … SELECT per rollup (sessions, bookings, revenue, payers,
    releases, flow; new members, level changes, points, active members), the time of the
    refresh: however many rows (plus the savepoint and its release, as the test runs in a
    transaction)."""
    rng = random.Random(5)
    random_clinic(rng, levels, days=3)
    random_money(rng)
    services.rebuild_rollups(start=FIRST_DAY, end=FIRST_DAY)
    with django_assert_num_queries(2 + 2 * (len(services.ROLLUPS) + 4) + 2):
        services.rebuild_rollups(start=FIRST_DAY, end=FIRST_DAY + dt.timedelta(days=2))


def test_a_full_rebuild_covers_money_moved_before_and_after_the_sessions(levels) -> None:
    """Paid on booking five days before the only session, refunded ten days after it: the
    command without a range rebuilds the money's days too, not only the sessions'."""
    booked = dt.datetime.combine(FIRST_DAY - dt.timedelta(days=5), dt.time(9), tzinfo=SHANGHAI)
    # Registered the day before booking (a registration widens the range too).
    member = MemberFactory(level=levels["普通"], registered_at=booked - dt.timedelta(hours=1))
    schedule = session(DoctorFactory(), FIRST_DAY, dt.time(8))
    paid = order(
        visit(schedule, member, "completed", booked_at=booked),
        gateway=Gateway.WECHAT,
        rate="1.00",
        paid_at=booked + dt.timedelta(minutes=2),
    )
    refund(paid, "20.00", completed_at=booked + dt.timedelta(days=15))
    assert services.raw_date_range() == (
        FIRST_DAY - dt.timedelta(days=5),
        FIRST_DAY + dt.timedelta(days=10),
    )
    call_command("rebuild_reports")
    rows = DailyRevenueStat.objects.order_by("date").values_list("date", "paid", "refunded")
    assert list(rows) == [
        (FIRST_DAY - dt.timedelta(days=5), Decimal("50.00"), Decimal("0.00")),
        (FIRST_DAY + dt.timedelta(days=10), Decimal("0.00"), Decimal("20.00")),
    ]


# --- The release and flow rollups ----------------------------------------------------------

SELL_OUT_AFTER = [
    None,
    -dt.timedelta(hours=2),
    -dt.timedelta(microseconds=1),
    dt.timedelta(0),
    *(
        dt.timedelta(seconds=seconds) + dt.timedelta(microseconds=delta)
        for seconds in (60, 600, 3600, 86400)
        for delta in (-1, 0, 1)
    ),
    dt.timedelta(days=3, seconds=7),
]


def random_release_and_flow(rng: random.Random) -> None:
    """On a random clinic: when each session first sold out (never, before its release, on
    each bucket's bound ±1 µs, days later), refusals counted over one or two periods, and the
    visits' check-in, call and completion times — some missing, some out of order, many
    around midnight in Shanghai."""
    for schedule in Schedule.objects.all():
        after = rng.choice(SELL_OUT_AFTER)
        schedule.sold_out_at = None if after is None else schedule.release_at + after
        schedule.save(update_fields=["sold_out_at"])
        for n in range(rng.choice([0, 0, 1, 2])):
            ReleaseDemand.objects.create(
                schedule=schedule,
                counted_from=schedule.release_at + dt.timedelta(seconds=n),
                refused=rng.randint(0, 50),
                copied_at=schedule.release_at,
            )
    for a in Appointment.objects.select_related("schedule"):
        if rng.random() < 0.3:
            continue
        midnight = dt.datetime.combine(
            a.schedule.date + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI
        )
        base = rng.choice(
            [dt.datetime.combine(a.schedule.date, a.schedule.start_time, tzinfo=SHANGHAI), midnight]
        )

        def moment(base=base):
            return base + dt.timedelta(
                seconds=rng.randint(-3600, 3600), microseconds=rng.randint(0, 999999)
            )

        a.checked_in_at = moment() if rng.random() < 0.8 else None
        a.called_at = moment() if rng.random() < 0.7 else None
        a.completed_at = moment() if rng.random() < 0.7 else None
        a.save(update_fields=["checked_in_at", "called_at", "completed_at"])


def _us(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return (end - start) // dt.timedelta(microseconds=1)


def expected_release_and_flow(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    releases: dict[tuple, Counter] = {}
    schedules = Schedule.objects.filter(
        date__range=(start, end), status__in=["published", "finished"]
    ).select_related("doctor")
    for s in schedules:
        key = (
            s.date,
            s.date.weekday(),
            s.doctor.department_id,
            s.doctor_id,
            s.session,
            s.start_time.hour,
        )
        figures = releases.setdefault(key, Counter())
        us = _us(s.release_at, s.sold_out_at)
        figures["released"] += 1
        figures["capacity"] += s.capacity
        if us is None:
            figures["not_sold_out"] += 1
        else:
            figures["sold_out"] += 1
            if us < 0:
                figures["before_release"] += 1
            else:
                figures["sold_out_after_us"] += us
                column = "after_day"
                for name, bound in (
                    ("within_minute", 60),
                    ("within_ten_minutes", 600),
                    ("within_hour", 3600),
                    ("within_day", 86400),
                ):
                    if us < bound * 1_000_000:
                        column = name
                        break
                figures[column] += 1
        refused = sum(d.refused for d in ReleaseDemand.objects.filter(schedule=s))
        figures["refused"] += refused
        figures["sessions_refusing"] += refused > 0
    flows: dict[tuple, Counter] = {}
    rows = Appointment.objects.filter(schedule__date__range=(start, end)).select_related(
        "schedule__doctor"
    )
    for a in rows:
        moment = a.completed_at or a.called_at or a.checked_in_at
        if moment is None:
            continue
        s = a.schedule
        key = (
            s.date,
            s.date.weekday(),
            s.doctor.department_id,
            s.doctor_id,
            moment.astimezone(SHANGHAI).hour,
        )
        figures = flows.setdefault(key, Counter())
        figures["arrived"] += a.checked_in_at is not None
        wait, length = _us(a.checked_in_at, a.called_at), _us(a.called_at, a.completed_at)
        if wait is not None and wait >= 0:
            figures["waited"] += 1
            figures["wait_us"] += wait
        if length is not None and length >= 0:
            figures["seen"] += 1
            figures["visit_us"] += length
        figures["completed"] += a.status == "completed"
    return releases, flows


RELEASE_COLUMNS = (
    "released",
    "capacity",
    "sold_out",
    "before_release",
    "within_minute",
    "within_ten_minutes",
    "within_hour",
    "within_day",
    "after_day",
    "not_sold_out",
    "sold_out_after_us",
    "refused",
    "sessions_refusing",
)
FLOW_COLUMNS = ("arrived", "waited", "wait_us", "seen", "visit_us", "completed")


def release_and_flow_rollups(start: dt.date, end: dt.date) -> tuple[dict, dict]:
    releases = {
        (r.date, r.weekday, r.department_id, r.doctor_id, r.session, r.start_hour): Counter(
            {k: getattr(r, k) for k in RELEASE_COLUMNS if getattr(r, k)}
        )
        for r in DailyReleaseStat.objects.filter(date__range=(start, end))
    }
    flows = {
        (r.date, r.weekday, r.department_id, r.doctor_id, r.hour): Counter(
            {k: getattr(r, k) for k in FLOW_COLUMNS if getattr(r, k)}
        )
        for r in DailyFlowStat.objects.filter(date__range=(start, end))
    }
    return releases, flows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_release_and_flow_rollups_equal_the_raw_rows(levels, seed) -> None:
    rng = random.Random(seed)
    random_clinic(rng, levels)
    random_release_and_flow(rng)
    last = FIRST_DAY + dt.timedelta(days=9)
    result = services.rebuild_rollups(start=FIRST_DAY, end=last)
    expected_releases, expected_flows = expected_release_and_flow(FIRST_DAY, last)
    got_releases, got_flows = release_and_flow_rollups(FIRST_DAY, last)
    assert got_releases == _clean(expected_releases)
    assert got_flows == _clean(expected_flows)
    assert (result.release_rows, result.flow_rows) == (len(got_releases), len(got_flows))
    assert (
        sum(f["completed"] for f in got_flows.values())
        == Appointment.objects.filter(status="completed")
        .exclude(checked_in_at=None, called_at=None, completed_at=None)
        .count()
    )


# -- the members' rollups ------------------------------------------------------------------------

REASONS = [value for value, _label in PointsReason.choices]


def random_members(rng: random.Random, levels: dict, *, days: int = 10) -> None:
    """On top of :func:`random_clinic`: new members registering within minutes of Shanghai
    midnights (their history dated then, some moving up or down a level later), two members
    loaded in bulk (no history at all), and points entries of every reason, both signs, around
    midnights and level changes."""
    level_list = list(levels.values())
    midnights = [
        dt.datetime.combine(FIRST_DAY + dt.timedelta(days=d), dt.time(0), tzinfo=SHANGHAI)
        for d in range(-1, days + 1)
    ]
    for member in Member.objects.all():
        Member.objects.filter(pk=member.pk).update(
            registered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
    for _ in range(10):
        at = rng.choice(midnights) + dt.timedelta(seconds=rng.choice([-60, -1, 0, 1, 60]))
        member = joined(MemberFactory(level=rng.choice(level_list), registered_at=at), at)
        if rng.random() < 0.5:
            change_level(
                member, rng.choice(level_list), at + dt.timedelta(hours=rng.randint(1, 99))
            )
    for member in rng.sample(list(Member.objects.order_by("pk")), 2):
        Member.history.filter(id=member.pk).delete()  # loaded in bulk: no history
    members = list(Member.objects.all())
    for _ in range(60):
        member = rng.choice(members)
        reason = rng.choice(REASONS)
        sign = -1 if reason in (PointsReason.REDEMPTION, PointsReason.REVERSAL) else 1
        if reason == PointsReason.ADJUSTMENT:
            sign = rng.choice([-1, 1])
        PointsEntry.objects.create(
            member=member,
            delta=sign * rng.randint(1, 500),
            balance_after=rng.randint(0, 5000),
            reason=reason,
            created_at=rng.choice(midnights) + dt.timedelta(seconds=rng.randint(-300, 300)),
        )


def history_of(member_id: int) -> list:
    return sorted(Member.history.filter(id=member_id), key=lambda r: (r.history_date, r.history_id))


def level_then(member_id: int, moment: dt.datetime) -> int:
    """The members' rollups' rule, in Python: the level of the last history row at or before
    ``moment``; before the first row, the first row's; without history, the level now."""
    rows = history_of(member_id)
    if not rows:
        return Member.objects.get(pk=member_id).level_id
    before = [row for row in rows if row.history_date <= moment]
    return (before[-1] if before else rows[0]).level_id


def local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def expected_members_from_raw(start: dt.date, end: dt.date) -> dict[str, dict]:
    signups: Counter = Counter()
    changes: Counter = Counter()
    for member in Member.objects.all():
        rows = history_of(member.pk)
        if start <= local(member.registered_at) <= end:
            level = rows[0].level_id if rows else member.level_id
            signups[(local(member.registered_at), level)] += 1
        for before, row in itertools.pairwise(rows):
            if before.level_id != row.level_id and start <= local(row.history_date) <= end:
                changes[(local(row.history_date), before.level_id, row.level_id)] += 1
    points: dict[tuple, Counter] = {}
    for entry in PointsEntry.objects.all():
        if not start <= local(entry.created_at) <= end:
            continue
        key = (local(entry.created_at), level_then(entry.member_id, entry.created_at), entry.reason)
        figures = points.setdefault(key, Counter())
        figures["points_added"] += max(entry.delta, 0)
        figures["points_taken"] += max(-entry.delta, 0)
        figures["entries"] += 1
    active: dict[tuple, Counter] = {}
    for a in Appointment.objects.select_related("schedule__doctor"):
        grain = (a.member_id, a.schedule.doctor.department_id, a.schedule.doctor_id, a.channel)
        if start <= local(a.created_at) <= end:
            key = (local(a.created_at), level_then(a.member_id, a.created_at), *grain)
            active.setdefault(key, Counter())["bookings"] += 1
        if a.checked_in_at is not None and start <= a.schedule.date <= end:
            key = (a.schedule.date, level_then(a.member_id, a.checked_in_at), *grain)
            active.setdefault(key, Counter())["visits"] += 1
    return {
        "signups": +signups,
        "changes": +changes,
        "points": {key: +figures for key, figures in points.items()},
        "active": {key: +figures for key, figures in active.items()},
    }


def member_rollups(start: dt.date, end: dt.date) -> dict[str, dict]:
    span = {"date__range": (start, end)}
    return {
        "signups": Counter(
            {(r.date, r.level_id): r.signups for r in DailyMemberStat.objects.filter(**span)}
        ),
        "changes": Counter(
            {
                (r.date, r.from_level_id, r.to_level_id): r.changes
                for r in DailyLevelChange.objects.filter(**span)
            }
        ),
        "points": {
            (r.date, r.level_id, r.reason): +Counter(
                {k: getattr(r, k) for k in ("points_added", "points_taken", "entries")}
            )
            for r in DailyPointsStat.objects.filter(**span)
        },
        "active": {
            (r.date, r.level_id, r.member_id, r.department_id, r.doctor_id, r.channel): +Counter(
                {"bookings": r.bookings, "visits": r.visits}
            )
            for r in DailyActiveMember.objects.filter(**span)
        },
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_members_rollups_equal_the_figures_recomputed_from_the_raw_rows(levels, seed) -> None:
    rng = random.Random(seed)
    random_clinic(rng, levels)
    random_members(rng, levels)
    last = FIRST_DAY + dt.timedelta(days=9)
    result = services.rebuild_rollups(start=FIRST_DAY - dt.timedelta(days=1), end=last)
    expected = expected_members_from_raw(FIRST_DAY - dt.timedelta(days=1), last)
    got = member_rollups(FIRST_DAY - dt.timedelta(days=1), last)
    assert got == expected
    assert result.member_rows == sum(len(table) for table in got.values())
    assert sum(expected["changes"].values()) > 0 and sum(expected["signups"].values()) > 0


@pytest.mark.parametrize("seed", [4, 5])
def test_the_distinct_active_members_and_the_level_mix_are_exact(levels, seed) -> None:
    """Any sub-range and filter: the dashboard's distinct active members equal the members
    found in the raw appointments, and its level mix at the end of each day equals each
    member's level then, counted over the members registered by then."""
    rng = random.Random(seed)
    random_clinic(rng, levels)
    random_members(rng, levels)
    services.rebuild_rollups(start=dt.date(2025, 12, 1), end=FIRST_DAY + dt.timedelta(days=12))
    appointments = list(Appointment.objects.select_related("schedule__doctor"))
    level_list = list(levels.values())
    for _ in range(6):
        first = FIRST_DAY + dt.timedelta(days=rng.randint(-1, 6))
        last = first + dt.timedelta(days=rng.randint(0, 5))
        level = rng.choice([None, *level_list])
        channel = rng.choice(["", *CHANNELS])
        filters = selectors.BookingFilters(first, last, level=level, channel=channel)
        found = set()
        for a in appointments:
            if channel and a.channel != channel:
                continue
            if first <= local(a.created_at) <= last and (
                level is None or level_then(a.member_id, a.created_at) == level.pk
            ):
                found.add(a.member_id)
            if (
                a.checked_in_at is not None
                and first <= a.schedule.date <= last
                and (level is None or level_then(a.member_id, a.checked_in_at) == level.pk)
            ):
                found.add(a.member_id)
        assert selectors.active_members(filters) == len(found), filters

    board = selectors.members_dashboard(
        filters=selectors.BookingFilters(
            FIRST_DAY - dt.timedelta(days=1), FIRST_DAY + dt.timedelta(days=10)
        )
    )
    members = list(Member.objects.all())
    for point in board.mix:
        end_of_day = dt.datetime.combine(
            point.day + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI
        )
        then = Counter(
            level_then(m.pk, end_of_day - dt.timedelta(microseconds=1))
            for m in members
            if m.registered_at < end_of_day
        )
        assert point.counts == tuple(then[level.pk] for level in board.levels), point.day
