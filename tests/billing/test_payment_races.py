"""Invariant 5 under concurrency on PostgreSQL: a payment applies once, and a payment racing
the hold expiry leaves exactly one outcome."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment
from billing import services
from billing.choices import OrderStatus
from billing.models import Order
from billing.services import PaymentOutcome
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import run_in_threads
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_payment_delivered_five_times_at_once_confirms_once(member) -> None:
    order = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB
    ).order

    def deliver():
        return services.confirm_payment(
            out_trade_no=order.out_trade_no, gateway_trade_no="T-1", amount=order.amount
        )

    results = run_in_threads([deliver] * 5)

    assert Counter(results) == {
        PaymentOutcome.CONFIRMED: 1,
        PaymentOutcome.ALREADY_APPLIED: 4,
    }
    assert Appointment.objects.get(pk=order.appointment_id).status == AppointmentStatus.CONFIRMED


def test_payments_racing_the_expiry_of_their_holds_close_each_hold_once(levels) -> None:
    schedule = ScheduleFactory(capacity=20)
    booked_at = timezone.now() - dt.timedelta(minutes=20)
    orders = [
        services.place_booking(
            member=MemberFactory(), schedule=schedule, channel=Channel.WEB, now=booked_at
        ).order
        for _ in range(12)
    ]

    def pay(order: Order):
        return lambda: services.confirm_payment(
            out_trade_no=order.out_trade_no,
            gateway_trade_no=f"T-{order.pk}",
            amount=order.amount,
        )

    jobs = [pay(order) for order in orders] + [services.expire_unpaid_orders] * 3
    results = run_in_threads(jobs)

    assert not [r for r in results if isinstance(r, Exception)], results
    for order in Order.objects.select_related("appointment"):
        if order.status == OrderStatus.PAID:
            assert order.appointment.status == AppointmentStatus.CONFIRMED
            assert order.closed_at is None
        else:
            assert order.status == OrderStatus.CLOSED
            assert order.paid_at is None
            assert order.appointment.status == AppointmentStatus.CANCELLED
    # Every hold ran out five minutes before its payment reached MedBook: the payment closes
    # the hold itself when the job has not, and its money goes back.
    payments = Counter(r for r in results[: len(orders)])
    closed = Order.objects.filter(status=OrderStatus.CLOSED).count()
    assert closed == len(orders)
    assert payments[PaymentOutcome.REFUND_DUE] == closed
    assert sum(r for r in results[len(orders) :]) <= closed
    assert_schedule_invariants(schedule.pk)
