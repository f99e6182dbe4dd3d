"""Bookings with their orders, as the billing tests need them: placed, paid, or closed unpaid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from appointments.choices import Channel
from appointments.models import Appointment, Schedule
from billing import services
from billing.choices import RefundStatus
from billing.gateways import sandbox
from billing.models import Order, Refund
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory


def book(member, schedule: Schedule, now: dt.datetime | None = None) -> Appointment:
    """A booking on the web with its order, placed at ``now`` (the present by default)."""
    return services.place_booking(member=member, schedule=schedule, channel=Channel.WEB, now=now)


def unpaid_order(member=None, *, fee: str = "50.00", at: dt.datetime | None = None) -> Order:
    """The order of a new booking (of a new member by default) on a session three days ahead."""
    return book(member or MemberFactory(), ScheduleFactory(fee=Decimal(fee)), now=at).order


def paid_order(member=None, *, fee: str = "50.00", at: dt.datetime | None = None) -> Order:
    """An order paid through the sandbox and confirmed, as its notification would."""
    order = unpaid_order(member, fee=fee, at=at)
    trade = sandbox.pay(order=order, now=at)
    services.confirm_payment(
        out_trade_no=order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=order.amount,
        now=at,
    )
    order.refresh_from_db()
    return order


def expired_order(member=None) -> Order:
    """An order placed half an hour ago and never paid, closed by the expiry job."""
    order = unpaid_order(member, at=timezone.now() - dt.timedelta(minutes=30))
    services.expire_unpaid_orders()
    return order


def run_refunds() -> None:
    """What the refund jobs do: carry out every refund still requested."""
    for pk in Refund.objects.filter(status=RefundStatus.REQUESTED).values_list("pk", flat=True):
        services.carry_out_refund(refund_id=pk)
