"""The demo clinic: believable, idempotent, and true to every invariant of the design.

The demo is seeded once for the whole module (``seeded``); each test runs in a savepoint of
that transaction, so a test that writes (seeding again, settling a day) leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from appointments.choices import ACTIVE_STATUSES, UPCOMING_STATUSES, AppointmentStatus
from appointments.models import Appointment, Department, Doctor, Holiday, Schedule
from members.models import Member, MemberLevel, PointsEntry
from members.selectors import members_with_ledger_drift
from tests.demo.seeding import seeded_for_group

pytestmark = [pytest.mark.core, pytest.mark.django_db]

SMALL = {"members": 60, "appointments": 500}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    with seeded_for_group(django_db_blocker, **SMALL):
        yield


def counts() -> dict[str, int]:
    models = [Department, Doctor, Schedule, Member, Appointment, PointsEntry, MemberLevel]
    return {model.__name__: model.objects.count() for model in models}


def test_it_builds_a_believable_clinic(seeded) -> None:
    today = timezone.localdate()
    assert Department.objects.count() >= 8
    assert Doctor.objects.count() >= 30
    assert set(Doctor.objects.values_list("title", flat=True)) == {
        "chief",
        "associate_chief",
        "attending",
        "resident",
    }
    assert list(MemberLevel.objects.values_list("name", flat=True)) == [
        "普通会员",
        "银卡会员",
        "金卡会员",
        "钻石会员",
    ]
    upcoming_days = set(
        Schedule.objects.filter(date__gte=today).values_list("date", flat=True).distinct()
    )
    fortnight = {today + dt.timedelta(days=n) for n in range(14)}
    closed = set(Holiday.objects.values_list("date", flat=True))
    assert upcoming_days == fortnight - closed, "every day of the next 14 but holidays"
    assert Schedule.objects.filter(release_at__gt=timezone.now()).exists(), "some not yet open"
    # Two upcoming sessions suspended before anyone booked them; one booked and then suspended
    # (停诊): its bookings cancelled by MedBook, no one's slot kept.
    suspended = Schedule.objects.filter(status="suspended")
    assert suspended.filter(date__gt=today, appointments__isnull=True).count() == 2
    booked_first = suspended.filter(appointments__isnull=False).distinct()
    assert booked_first.exists()
    for schedule in booked_first:
        assert schedule.booked == 0
        assert not schedule.appointments.exclude(status="cancelled").exists()
        reasons = set(schedule.appointments.values_list("cancel_reason", flat=True))
        assert f"停诊：{schedule.suspended_reason}" in reasons
    # 60 members with a history, 20 who signed up lately (the members' report's new members)
    assert Member.objects.count() == 80
    recent = Member.objects.filter(registered_at__gte=timezone.now() - dt.timedelta(days=22))
    assert recent.count() == 20
    assert not recent.filter(appointments__isnull=False).exists()
    assert {m.history.earliest().level.name for m in recent} == {"普通会员"}


def test_appointments_cover_every_status_but_checked_in_which_needs_a_running_session(
    seeded,
) -> None:
    statuses = set(Appointment.objects.values_list("status", flat=True))
    expected = set(AppointmentStatus.values) - {AppointmentStatus.CHECKED_IN}
    assert expected <= statuses


def test_a_popular_doctor_is_fully_booked(seeded) -> None:
    upcoming = Schedule.objects.filter(doctor__name="王建国", date__gt=timezone.localdate())
    assert upcoming.filter(booked=F("capacity")).exists()


def test_members_wait_for_one_full_session_and_another_has_no_queue(seeded) -> None:
    """候补: with two full sessions or more, three members wait for the last one; a full
    session of 王建国 always has nobody in line, so a demo member who joins it is first."""
    from appointments.models import WaitlistEntry

    full = Schedule.objects.filter(
        doctor__name="王建国", date__gt=timezone.localdate(), booked=F("capacity")
    )
    waited_for = set(WaitlistEntry.objects.values_list("schedule_id", flat=True))
    assert full.exclude(pk__in=waited_for).exists()
    assert len(waited_for) == (1 if full.count() >= 2 else 0)
    for entry in WaitlistEntry.objects.select_related("schedule"):
        assert entry.schedule.remaining == 0
        assert not entry.schedule.appointments.filter(
            status__in=ACTIVE_STATUSES, member_id=entry.member_id
        ).exists()


def test_running_it_twice_changes_nothing(seeded) -> None:
    before = counts()
    call_command("seed_demo", **SMALL, stdout=io.StringIO())
    assert counts() == before


def test_schedule_counters_and_queue_numbers_hold(seeded) -> None:
    rows = Schedule.objects.annotate(
        active=Count("appointments", filter=Q(appointments__status__in=ACTIVE_STATUSES)),
        distinct_numbers=Count(
            "appointments__queue_number",
            filter=Q(appointments__status__in=ACTIVE_STATUSES),
            distinct=True,
        ),
        low=Min("appointments__queue_number", filter=Q(appointments__status__in=ACTIVE_STATUSES)),
        high=Max("appointments__queue_number", filter=Q(appointments__status__in=ACTIVE_STATUSES)),
    )
    for schedule in rows:
        assert schedule.booked == schedule.active <= schedule.capacity
        assert schedule.distinct_numbers == schedule.active
        if schedule.active:
            assert schedule.low >= 1
            assert schedule.high <= schedule.capacity
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES).exists()


def test_members_stay_within_their_limits(seeded) -> None:
    today = timezone.localdate()
    for member in Member.objects.select_related("level"):
        upcoming = Appointment.objects.filter(
            member=member, status__in=UPCOMING_STATUSES, schedule__date__gte=today
        ).count()
        assert upcoming <= member.level.max_active_appointments
    duplicates = (
        Appointment.objects.filter(status__in=ACTIVE_STATUSES)
        .values("member", "schedule")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()


def test_points_balances_equal_their_ledgers_and_set_the_level(seeded) -> None:
    assert not members_with_ledger_drift().exists()
    thresholds = list(MemberLevel.objects.order_by("-min_points"))
    for member in Member.objects.select_related("level"):
        # Redemptions spend points but don't count towards the level.
        qualifying = sum(
            member.points_entries.exclude(reason="redemption").values_list("delta", flat=True)
        )
        reached = next(lv for lv in thresholds if lv.min_points <= qualifying)
        assert member.level.level >= reached.level
        assert qualifying >= member.level.min_points
        assert member.points_balance >= 0


def test_timestamps_agree_with_statuses(seeded) -> None:
    now = timezone.now()
    assert not Appointment.objects.filter(status="completed", completed_at__isnull=True).exists()
    assert not Appointment.objects.filter(status="cancelled", cancelled_at__isnull=True).exists()
    assert not Appointment.objects.filter(created_at__gt=now).exists()
    pending = Appointment.objects.filter(status="pending_payment")
    assert all(now - a.created_at < dt.timedelta(minutes=15) for a in pending)


def test_no_plaintext_personal_data_is_stored(seeded) -> None:
    member = Member.objects.exclude(national_id="").first()
    with connection.cursor() as cursor:
        cursor.execute("select phone, national_id from members_member where id = %s", [member.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert member.phone[3:] not in raw_phone
    assert member.national_id not in raw_id
    assert raw_phone.startswith("v1$")


def test_every_appointment_with_a_fee_has_the_order_its_status_implies(seeded) -> None:
    from billing.models import Order
    from billing.services.orders import EXPIRED_HOLD_REASON

    expected = {
        "pending_payment": "unpaid",
        "confirmed": "paid",
        "checked_in": "paid",
        "completed": "paid",
        "no_show": "paid",
    }
    with_fee = Appointment.objects.filter(fee__gt=0)
    assert Order.objects.count() == with_fee.count()
    assert not Appointment.objects.filter(fee=0, order__isnull=False).exists()
    rows = with_fee.values_list("status", "cancel_reason", "order__status")
    for status, reason, order_status in rows:
        if status != "cancelled":
            assert expected[status] == order_status
        elif reason == EXPIRED_HOLD_REASON:
            assert order_status == "closed"  # the hold ran out unpaid
        else:
            assert order_status == "refunded"  # paid, then refunded in full
    assert {"closed", "refunded"} <= {row[2] for row in rows}
    for order in Order.objects.prefetch_related("refunds"):
        assert order.amount <= order.original_amount
        assert (order.paid_at is None) == (order.status in ("unpaid", "closed"))
        refunds = [r for r in order.refunds.all() if r.status == "succeeded"]
        assert order.refunded_amount == sum((r.amount for r in refunds), Decimal(0))
        assert all(r.completed_at >= r.created_at for r in refunds)
        # Paid at the desk's till or through the online cashier; unpaid orders wait online.
        desk = order.appointment.channel in ("front_desk", "walk_in") and order.paid_at
        assert order.gateway == ("counter" if desk else "sandbox")


def test_the_seeded_sandbox_ledger_agrees_with_the_orders(seeded) -> None:
    from billing import settlement
    from billing.gateways import get_gateway
    from billing.models import Order

    days = {
        timezone.localtime(paid_at).date()
        for paid_at in Order.objects.exclude(paid_at=None).values_list("paid_at", flat=True)
    }
    for day in sorted(days)[-3:]:
        result = settlement.settle_day(day=day, gateway=get_gateway("sandbox"))
        assert result.mismatch_count == 0
