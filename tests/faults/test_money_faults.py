"""Fault experiments on the money path, over HTTP against gunicorn + a prefork Celery worker +
beat on real PostgreSQL, Redis and RabbitMQ: RabbitMQ refused during payments and
cancellations, and worker processes SIGKILLed in the middle of refund and notification jobs.
Every payment taken must be applied exactly once, every refund requested carried out exactly
once (counted against the sandbox's own ledger), and no member sees a 5xx.

The outage lasts FAULT_SECONDS (10 s by default, as in CI; set 60 by hand), with FAULT_MEMBERS
members (12).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from appointments.models import Appointment
from billing.choices import OrderStatus, RefundStatus
from billing.models import Order, Refund, SandboxRefund, SandboxTrade
from tests.appointments.factories import ScheduleFactory
from tests.faults.harness import SECONDS, Browser, eventually
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBERS = int(os.environ.get("FAULT_MEMBERS", "12"))  # half pay, half cancel in the fault


def members_with_bookings(clinic) -> list[tuple[Browser, int, str]]:
    """Members logged in, each holding an unpaid booking; (browser, appointment, cashier)."""
    day = timezone.localdate() + dt.timedelta(days=3)
    schedules = [ScheduleFactory(fee=Decimal("50.00"), date=day, capacity=20) for _ in range(3)]
    booked = []
    for index in range(MEMBERS):
        member = MemberFactory()
        browser = Browser(clinic)
        browser.log_in_as(member.user)
        answer = browser.post(f"/book/{schedules[index % 3].pk}/")
        assert answer.status == 302, (answer.status, answer.body[:500])
        appointment = Appointment.objects.get(member=member)
        cashier = browser.get(f"/appointments/{appointment.pk}/pay/").headers["location"]
        booked.append((browser, appointment.pk, cashier))
    return booked


def pay(browser: Browser, cashier: str):
    path = cashier.removeprefix(browser.clinic.url)
    return browser.request("POST", path, {"action": "pay"})


def cancel(browser: Browser, appointment_id: int):
    return browser.post(f"/appointments/{appointment_id}/cancel/", {"reason": "临时有事"})


def all_settled() -> bool:
    """Every payment taken is applied or on its way back, every refund is done."""
    trades = list(SandboxTrade.objects.all())
    if any(t.notified_at is None for t in trades):
        return False
    if Refund.objects.exclude(status=RefundStatus.SUCCEEDED).exists():
        return False
    return not Order.objects.filter(status=OrderStatus.REFUNDING).exists()


def assert_money_exact() -> None:
    """Counted against the sandbox's own ledger: each payment applied once or returned once,
    each refund carried out once, and the reconciliation finds nothing astray."""
    for trade in SandboxTrade.objects.all():
        applied = Order.objects.filter(gateway_trade_no=trade.trade_no).count()
        returned = Refund.objects.filter(stray_trade_no=trade.trade_no).count()
        assert applied + returned == 1, (trade.trade_no, applied, returned)
    refunds = Refund.objects.all()
    assert SandboxRefund.objects.count() == refunds.count()
    for refund in refunds:
        assert refund.status == RefundStatus.SUCCEEDED
        assert SandboxRefund.objects.filter(out_refund_no=refund.out_refund_no).count() == 1
    for order in Order.objects.filter(refunded_amount__gt=0):
        back = sum(r.amount for r in order.refunds.filter(stray_trade_no=""))
        assert order.refunded_amount == back
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    call_command("check_integrity", stdout=io.StringIO())


def no_5xx(*browsers: Browser) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for browser in browsers:
        for status, count in browser.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    assert not [s for s in statuses if s >= 500], statuses
    return statuses


def test_rabbitmq_down_during_payments_and_cancellations_loses_nothing(clinic) -> None:
    clinic.start_web()
    clinic.start_worker()
    clinic.start_beat()
    booked = members_with_bookings(clinic)
    paid_before, pay_during = booked[: MEMBERS // 2], booked[MEMBERS // 2 :]
    for browser, _, cashier in paid_before:
        assert pay(browser, cashier).status == 200
    assert eventually(
        lambda: Order.objects.filter(status=OrderStatus.PAID).count() == len(paid_before)
    )

    clinic.rabbitmq.refuse()
    started = time.monotonic()
    during = [pay(browser, cashier) for browser, _, cashier in pay_during]
    during += [cancel(browser, appointment) for browser, appointment, _ in paid_before]
    time.sleep(max(0.0, SECONDS - (time.monotonic() - started)))
    assert SandboxTrade.objects.filter(notified_at__isnull=True).count() == len(pay_during)
    assert Refund.objects.filter(status=RefundStatus.REQUESTED).count() == len(paid_before)
    clinic.rabbitmq.heal()

    assert eventually(all_settled, timeout=90), (
        clinic.log("worker")[-3000:] + clinic.log("beat")[-2000:]
    )
    statuses = no_5xx(*(browser for browser, _, _ in booked))
    assert [a.status for a in during] == [200] * len(pay_during) + [302] * len(paid_before)
    assert_money_exact()
    print(
        f"RabbitMQ down {SECONDS:.0f} s: requests by status {statuses}, "
        f"{len(pay_during)} payments and {len(paid_before)} refunds during the outage, "
        "0 lost, 0 duplicated"
    )


def test_worker_processes_killed_in_refund_and_notice_jobs_lose_and_repeat_nothing(clinic):
    clinic.start_web()
    clinic.start_worker(MEDBOOK_SANDBOX_LATENCY_MS="800")  # jobs take a while: kills land inside
    clinic.start_beat()
    booked = members_with_bookings(clinic)
    paid_first, pay_later = booked[: MEMBERS // 2], booked[MEMBERS // 2 :]
    for browser, _, cashier in paid_first:
        assert pay(browser, cashier).status == 200
    assert eventually(
        lambda: Order.objects.filter(status=OrderStatus.PAID).count() == len(paid_first),
        timeout=60,
    )

    stop = threading.Event()
    kills = []

    def killer() -> None:
        while not stop.is_set():
            time.sleep(0.6)
            kills.append(clinic.kill_children("worker"))

    for browser, appointment, _ in paid_first:
        assert cancel(browser, appointment).status == 302
    for browser, _, cashier in pay_later:
        assert pay(browser, cashier).status == 200
    thread = threading.Thread(target=killer)
    thread.start()
    time.sleep(SECONDS)
    stop.set()
    thread.join()

    assert eventually(all_settled, timeout=150), clinic.log("worker")[-3000:]
    statuses = no_5xx(*(browser for browser, _, _ in booked))
    assert sum(kills) > 0
    assert_money_exact()
    assert Order.objects.filter(status=OrderStatus.PAID).count() == len(pay_later)
    print(
        f"worker children SIGKILLed {sum(kills)} times in {SECONDS:.0f} s: requests {statuses}, "
        f"{len(paid_first)} refunds and {len(pay_later)} notices, 0 lost, 0 duplicated"
    )
