"""Payment at the front desk: confirms like an online payment, refunds in cash, settles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import exceptions as booking_errors
from billing import exceptions as errors
from billing import services
from billing.gateways import get_gateway
from billing.models import Order, Refund
from billing.settlement import settle_day
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.conftest import started_ago
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def walk_in(front_desk, fee="80.00"):
    start = started_ago(dt.timedelta(minutes=5))
    schedule = ScheduleFactory(
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59),
        fee=Decimal(fee),
    )
    return services.register_walk_in(member=MemberFactory(), schedule=schedule, by=front_desk)


@pytest.mark.core
def test_paying_at_the_desk_confirms_and_a_cancellation_refunds_in_cash(levels, front_desk):
    appointment = walk_in(front_desk)
    order = services.pay_at_counter(order=appointment.order, by=front_desk)
    appointment.refresh_from_db()
    assert (order.status, order.gateway, appointment.status) == ("paid", "counter", "confirmed")

    services.cancel_booking(appointment=appointment, by=front_desk, reason="患者改期")
    services.carry_out_refund(refund_id=Refund.objects.get().pk)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", Decimal("80.00"))
    assert "前台" in Message.objects.get(kind="refunded").body


@pytest.mark.core
def test_a_paid_or_expired_order_cannot_be_paid_at_the_desk(levels, front_desk) -> None:
    appointment = walk_in(front_desk)
    services.pay_at_counter(order=appointment.order, by=front_desk)
    with pytest.raises(errors.NotPayable):
        services.pay_at_counter(order=Order.objects.get(pk=appointment.order.pk), by=front_desk)
    other = walk_in(front_desk)
    with pytest.raises(errors.NotPayable):
        services.pay_at_counter(
            order=other.order, by=front_desk, now=other.order.expires_at + dt.timedelta(seconds=1)
        )


@pytest.mark.core
def test_a_doctor_cannot_take_payment(levels, front_desk, doctor_user) -> None:
    appointment = walk_in(front_desk)
    with pytest.raises(booking_errors.NotAllowed):
        services.pay_at_counter(order=appointment.order, by=doctor_user)


def test_the_desk_button_takes_the_payment(client, levels, front_desk) -> None:
    appointment = walk_in(front_desk)
    client.force_login(front_desk)
    page = client.get(reverse("staff:appointment", args=[appointment.pk])).content.decode()
    assert "¥80.00" in page
    client.post(reverse("staff:appointment_counter_payment", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


@pytest.mark.core
def test_the_counter_settles_against_its_own_book(levels, front_desk) -> None:
    appointment = walk_in(front_desk)
    services.pay_at_counter(order=appointment.order, by=front_desk)
    settlement = settle_day(day=timezone.localdate(), gateway=get_gateway("counter"))
    assert settlement.mismatches.count() == 0
    assert settlement.payments_total == Decimal("80.00")
