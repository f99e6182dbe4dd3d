"""Raw rows for the reports' tests: sessions, appointments, orders and refunds written as they
stand in the tables at the end of a day (statuses, times, amounts), and level changes with the
time the member's history records them. The rollups read only these tables, so the tests build
them directly."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import F

from appointments.choices import AppointmentStatus, ScheduleStatus, Session
from appointments.models import Appointment, Schedule
from billing.choices import OrderStatus, RefundStatus
from billing.models import Order, Refund
from medbook import money
from members.models import Member, MemberLevel

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers: dict[int, int] = defaultdict(int)
_serial = itertools.count(1)  # order and refund numbers


def session(
    doctor,
    day: dt.date,
    start: dt.time,
    *,
    capacity: int = 4,
    suspended: bool = False,
) -> Schedule:
    end = (dt.datetime.combine(day, start) + dt.timedelta(hours=3)).time()
    return Schedule.objects.create(
        doctor=doctor,
        date=day,
        session=Session.MORNING if start.hour < 12 else Session.AFTERNOON,
        start_time=start,
        end_time=end,
        capacity=capacity,
        fee=Decimal("50.00"),
        status=ScheduleStatus.SUSPENDED if suspended else ScheduleStatus.FINISHED,
        release_at=dt.datetime.combine(day - dt.timedelta(days=7), dt.time(8), tzinfo=SHANGHAI),
    )


def visit(
    schedule: Schedule,
    member: Member,
    status: str,
    *,
    channel: str = "web",
    booked_at: dt.datetime,
    cancelled_by=None,
    cancel_reason: str = "",
) -> Appointment:
    """An appointment of ``member`` in ``schedule`` made at ``booked_at``, now ``status``;
    a cancelled one by ``cancelled_by`` (a user; None: MedBook itself) for ``cancel_reason``."""
    _numbers[schedule.pk] += 1
    number = _numbers[schedule.pk]
    starts = dt.datetime.combine(schedule.date, schedule.start_time, tzinfo=SHANGHAI)
    arrived = status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
    return Appointment.objects.create(
        member=member,
        schedule=schedule,
        queue_number=number,
        estimated_time=schedule.start_time,
        status=status,
        channel=channel,
        fee=schedule.fee,
        created_at=booked_at,
        checked_in_at=starts if arrived else None,
        completed_at=starts if status == AppointmentStatus.COMPLETED else None,
        cancelled_at=booked_at if status == AppointmentStatus.CANCELLED else None,
        no_show_at=starts if status == AppointmentStatus.NO_SHOW else None,
        cancelled_by=cancelled_by,
        cancel_reason=cancel_reason,
    )


def joined(member: Member, at: dt.datetime) -> Member:
    """Date the member's history rows (written when the factory saved them) at ``at``."""
    Member.history.filter(id=member.pk).update(history_date=at)
    return member


def change_level(member: Member, level: MemberLevel, at: dt.datetime) -> None:
    """The member's level changes at ``at``, recorded in their history as a save does."""
    member.level = level
    member._history_date = at
    member.save(update_fields=["level"])


def order(
    appointment: Appointment,
    *,
    gateway: str,
    rate: str | Decimal,
    paid_at: dt.datetime | None = None,
) -> Order:
    """``appointment``'s order at the price factor ``rate`` (the member's level's when they
    booked), paid through ``gateway`` at ``paid_at``; without it, a hold closed unpaid."""
    number = next(_serial)
    rate = Decimal(rate)
    created = appointment.created_at
    return Order.objects.create(
        appointment=appointment,
        member=appointment.member,
        out_trade_no=f"MB{number:014d}",
        gateway=gateway,
        original_amount=appointment.fee,
        discount_rate=rate,
        amount=money.payable(fee=appointment.fee, discount_rate=rate),
        status=OrderStatus.PAID if paid_at else OrderStatus.CLOSED,
        gateway_trade_no=f"T{number:014d}" if paid_at else None,
        created_at=created,
        expires_at=created + dt.timedelta(minutes=15),
        paid_at=paid_at,
        closed_at=None if paid_at else created + dt.timedelta(minutes=15),
    )


def refund(
    paid: Order,
    amount: str | Decimal,
    *,
    completed_at: dt.datetime | None = None,
    status: str | None = None,
    requested_at: dt.datetime | None = None,
    stray: str = "",
) -> Refund:
    """A refund of ``amount`` of ``paid``: completed at ``completed_at`` (its order's refunded
    total moves with it), or still ``requested`` / ``failed`` without it; ``stray``: a payment
    the order never took, sent back (the order's totals stay)."""
    number = next(_serial)
    amount = Decimal(amount)
    status = status or (RefundStatus.SUCCEEDED if completed_at else RefundStatus.REQUESTED)
    created = requested_at or (completed_at or paid.paid_at) - dt.timedelta(minutes=5)
    row = Refund.objects.create(
        order=paid,
        out_refund_no=f"RF{number:014d}",
        amount=amount,
        status=status,
        gateway_refund_no=f"R{number:014d}" if completed_at else "",
        created_at=created,
        completed_at=completed_at,
        stray_trade_no=stray,
    )
    if status == RefundStatus.SUCCEEDED and not stray:
        Order.objects.filter(pk=paid.pk).update(refunded_amount=F("refunded_amount") + amount)
        paid.refresh_from_db()
        whole = paid.refunded_amount == paid.amount
        paid.status = OrderStatus.REFUNDED if whole else OrderStatus.PARTIALLY_REFUNDED
        Order.objects.filter(pk=paid.pk).update(status=paid.status)
    return row
