"""Every change a member cares about writes an in-app message, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from appointments.choices import Channel
from billing import services
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import paid_order, run_refunds

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def kinds(member) -> list[str]:
    return list(Message.objects.filter(member=member).order_by("pk").values_list("kind", flat=True))


def test_booking_paying_cancelling_and_the_refund_each_write_one_message(member) -> None:
    order = paid_order(member=member, fee="80.00")
    assert kinds(member) == ["booked", "paid"]
    services.cancel_booking(appointment=order.appointment, by=member.user, reason="行程有变")
    run_refunds()
    assert kinds(member) == ["booked", "paid", "cancelled", "refunded"]
    refunded = Message.objects.get(member=member, kind="refunded")
    assert "¥80.00" in refunded.title
    assert refunded.appointment_id == order.appointment_id


def test_a_free_session_is_confirmed_in_the_booking_message(member) -> None:
    services.place_booking(member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB)
    message = Message.objects.get(member=member)
    assert message.kind == "booked" and "已确认" in message.body


def test_a_hold_that_runs_out_tells_the_member(member) -> None:
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("50.00")), channel=Channel.WEB
    )
    services.expire_unpaid_orders(now=appointment.order.expires_at + dt.timedelta(seconds=1))
    assert kinds(member) == ["booked", "cancelled"]
    assert "未按时支付" in Message.objects.get(member=member, kind="cancelled").title
