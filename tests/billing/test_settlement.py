"""Daily settlement: totals per doctor and department, reconciled with the gateway's ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import Channel
from billing import services, settlement
from billing.choices import MismatchKind
from billing.gateways import get_gateway, sandbox
from billing.models import Order, Refund, SandboxRefund, SandboxTrade, Settlement
from billing.tasks import settle_yesterday
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

SANDBOX = get_gateway("sandbox")
DAYS_AHEAD = itertools.count(3)  # one session per doctor and day


def paid(doctor, fee: str, *, at: dt.datetime) -> Order:
    order = services.place_booking(
        member=MemberFactory(),
        schedule=ScheduleFactory(
            doctor=doctor,
            fee=Decimal(fee),
            date=timezone.localdate() + dt.timedelta(days=next(DAYS_AHEAD)),
            release_at=at - dt.timedelta(days=1),
        ),
        channel=Channel.WEB,
        now=at,
    ).order
    trade = sandbox.pay(order=order, now=at)
    services.confirm_payment(
        out_trade_no=order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=order.amount,
        paid_at=at,
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def day() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def noon(day) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


def test_a_day_is_totalled_per_doctor_and_agrees_with_the_gateway(levels, day, noon) -> None:
    wang, li = DoctorFactory(name="王医生"), DoctorFactory(name="李医生")
    paid(wang, "50.00", at=noon)
    paid(wang, "50.00", at=noon)
    refunded = paid(li, "80.00", at=noon)
    paid(li, "80.00", at=noon + dt.timedelta(days=1))  # the next day: not in this settlement
    services.request_refund(order=refunded, reason="退费", amount=Decimal("30.00"))
    refund = Refund.objects.get()
    services.carry_out_refund(refund_id=refund.pk)
    Refund.objects.filter(pk=refund.pk).update(completed_at=noon + dt.timedelta(hours=1))
    SandboxRefund.objects.update(refunded_at=noon + dt.timedelta(hours=1))

    result = settlement.settle_day(day=day, gateway=SANDBOX)

    assert (result.payments_count, result.payments_total) == (3, Decimal("180.00"))
    assert (result.refunds_count, result.refunds_total) == (1, Decimal("30.00"))
    assert result.net_total == Decimal("150.00")
    assert result.mismatch_count == 0
    lines = {line.doctor.name: line for line in result.lines.select_related("doctor")}
    assert lines["王医生"].payments_total == Decimal("100.00")
    assert (lines["李医生"].payments_total, lines["李医生"].refunds_total) == (
        Decimal("80.00"),
        Decimal("30.00"),
    )


def test_disagreements_with_the_gateway_are_listed(levels, day, noon) -> None:
    doctor = DoctorFactory()
    changed, vanished = paid(doctor, "50.00", at=noon), paid(doctor, "50.00", at=noon)
    SandboxTrade.objects.filter(out_trade_no=changed.out_trade_no).update(amount=Decimal("5.00"))
    SandboxTrade.objects.filter(out_trade_no=vanished.out_trade_no).update(
        paid_at=noon - dt.timedelta(days=3)
    )
    SandboxTrade.objects.create(
        trade_no="SB-STRANGER", out_trade_no="MB-UNKNOWN", amount=Decimal("9.99"), paid_at=noon
    )

    result = settlement.settle_day(day=day, gateway=SANDBOX)

    found = {(m.kind, m.reference): m for m in result.mismatches.all()}
    assert {kind for kind, _ in found} == {
        MismatchKind.AMOUNT_DIFFERS,
        MismatchKind.MISSING_AT_GATEWAY,
        MismatchKind.MISSING_IN_MEDBOOK,
    }
    differs = found[(MismatchKind.AMOUNT_DIFFERS, changed.gateway_trade_no)]
    assert (differs.medbook_amount, differs.gateway_amount) == (Decimal("50.00"), Decimal("5.00"))
    assert found[(MismatchKind.MISSING_IN_MEDBOOK, "SB-STRANGER")].gateway_amount == Decimal("9.99")
    assert result.mismatch_count == 3


def test_recomputing_a_day_replaces_its_figures(levels, day, noon) -> None:
    doctor = DoctorFactory()
    paid(doctor, "50.00", at=noon)
    settlement.settle_day(day=day, gateway=SANDBOX)
    paid(doctor, "20.00", at=noon)

    again = settlement.settle_day(day=day, gateway=SANDBOX)

    assert Settlement.objects.count() == 1
    assert again.payments_total == Decimal("70.00")
    assert again.lines.count() == 1


def test_the_nightly_job_settles_yesterday(levels, day, noon) -> None:
    paid(DoctorFactory(), "50.00", at=noon)

    assert settle_yesterday.apply().get() == 0

    assert Settlement.objects.get(day=day, gateway="sandbox").payments_total == Decimal("50.00")
    assert Settlement.objects.get(day=day, gateway="counter").payments_total == 0
