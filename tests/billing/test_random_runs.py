"""Seeded random runs of bookings, payments, repeats, cancellations, refunds, expiries and
visits; afterwards invariants 1-5 of the design must hold for every schedule, member and order."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel
from appointments.exceptions import AppointmentError
from appointments.models import Appointment, Schedule
from billing import services
from billing.choices import OrderStatus, RefundStatus
from billing.exceptions import PaymentError
from billing.gateways import get_gateway, sandbox
from billing.gateways import sandbox as sandbox_gateway
from billing.models import Order, Refund, SandboxTrade
from members.selectors import members_with_ledger_drift
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.members.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


class Run:
    def __init__(self, rng: random.Random, levels) -> None:
        self.rng = rng
        self.members = [MemberFactory(level=rng.choice(list(levels.values()))) for _ in range(12)]
        self.schedules = [
            ScheduleFactory(
                capacity=rng.randint(1, 4), fee=Decimal(rng.choice(["0", "33.33", "50"]))
            )
            for _ in range(5)
        ]
        self.staff = UserFactory(is_staff=True)
        self.staff.user_permissions.add(Permission.objects.get(codename="cancel_any_appointment"))
        self.now = timezone.now()

    def pick(self, queryset):
        rows = list(queryset)
        return self.rng.choice(rows) if rows else None

    # -- operations ---------------------------------------------------------------------------

    def book(self) -> None:
        services.place_booking(
            member=self.rng.choice(self.members),
            schedule=self.rng.choice(self.schedules),
            channel=Channel.WEB,
            now=self.now,
        )

    def pay(self) -> None:
        order = self.pick(Order.objects.filter(status=OrderStatus.UNPAID))
        if order is not None:
            trade = sandbox.pay(order=order, now=self.now)
            self.notify(order, trade)

    def notify(self, order: Order, trade: SandboxTrade) -> None:
        body = sandbox_gateway.notification_body(
            out_trade_no=order.out_trade_no,
            trade_no=trade.trade_no,
            amount=trade.amount,
            paid_at=trade.paid_at,
        )
        services.receive_notification(
            gateway=get_gateway("sandbox"),
            body=body,
            headers={"X-Sandbox-Signature": sandbox_gateway.sign(body)},
        )

    def repeat_notify(self) -> None:
        trade = self.pick(SandboxTrade.objects.all())
        if trade is not None:
            self.notify(Order.objects.get(out_trade_no=trade.out_trade_no), trade)

    def cancel(self) -> None:
        appointment = self.pick(Appointment.objects.select_related("member__user"))
        if appointment is not None:
            by = self.rng.choice([appointment.member.user, self.staff, None])
            services.cancel_booking(appointment=appointment, by=by, reason="随机取消", now=self.now)

    def partial_refund(self) -> None:
        order = self.pick(Order.objects.filter(status__in=services.REFUNDABLE_STATUSES))
        if order is not None:
            amount = Decimal(self.rng.choice(["0.01", "5.00", "20.00", "60.00"]))
            services.request_refund(order=order, reason="部分退费", by=self.staff, amount=amount)

    def run_refunds(self) -> None:
        for pk in Refund.objects.filter(status=RefundStatus.REQUESTED).values_list("pk", flat=True):
            services.carry_out_refund(refund_id=pk)

    def expire(self) -> None:
        later = self.now + dt.timedelta(minutes=self.rng.choice([1, 20]))
        services.expire_unpaid_orders(now=later)

    def late_payment(self) -> None:
        order = self.pick(Order.objects.filter(status=OrderStatus.CLOSED, paid_at__isnull=True))
        if (
            order is not None
            and not SandboxTrade.objects.filter(out_trade_no=order.out_trade_no).exists()
        ):
            trade = SandboxTrade.objects.create(
                trade_no=f"LATE{order.pk}",
                out_trade_no=order.out_trade_no,
                amount=order.amount,
                paid_at=self.now,
            )
            self.notify(order, trade)

    def visit(self) -> None:
        appointment = self.pick(
            Appointment.objects.filter(
                status__in=[AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN]
            )
        )
        if appointment is None:
            return
        if appointment.status == AppointmentStatus.CONFIRMED:
            appointment_services.check_in_appointment(appointment=appointment)
        else:
            services.complete_visit(appointment=appointment)

    def step(self) -> None:
        operation = self.rng.choices(
            [
                self.book,
                self.pay,
                self.repeat_notify,
                self.cancel,
                self.partial_refund,
                self.run_refunds,
                self.expire,
                self.late_payment,
                self.visit,
            ],
            weights=[30, 15, 5, 10, 6, 8, 5, 3, 12],
        )[0]
        # A refusal with a reason must have changed nothing, which the final checks verify.
        with contextlib.suppress(AppointmentError, PaymentError):
            operation()


def assert_money_invariants() -> None:
    for order in Order.objects.select_related("appointment"):
        refunds = order.refunds.filter(status=RefundStatus.SUCCEEDED, stray_trade_no="")
        refunded = refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        requested = order.refunds.filter(stray_trade_no="").aggregate(total=Sum("amount"))["total"]
        assert order.refunded_amount == refunded
        assert (requested or 0) <= order.amount
        assert not (order.status == OrderStatus.CLOSED and order.paid_at is not None)
        if order.status == OrderStatus.UNPAID:
            assert order.appointment.status == AppointmentStatus.PENDING_PAYMENT
        if order.appointment.status in (
            AppointmentStatus.CONFIRMED,
            AppointmentStatus.CHECKED_IN,
            AppointmentStatus.COMPLETED,
        ):
            assert order.paid_at is not None
        if order.status == OrderStatus.REFUNDED:
            assert order.refunded_amount == order.amount
    for trade in SandboxTrade.objects.all():
        returned = trade.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        assert returned <= trade.amount


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_random_run_keeps_every_invariant(levels, seed, django_capture_on_commit_callbacks):
    run = Run(random.Random(seed), levels)

    for _ in range(160):
        # Each step commits on its own in production: run its on-commit work (cache hints,
        # queued jobs) before the next one.
        with django_capture_on_commit_callbacks(execute=True):
            run.step()
    run.run_refunds()

    assert Appointment.objects.exists()
    for schedule in Schedule.objects.all():
        assert_schedule_invariants(schedule.pk)
    assert not members_with_ledger_drift().exists()
    assert_money_invariants()
