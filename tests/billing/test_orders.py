"""Orders: the payable amount, one order per paid booking, payments applied once, holds expiring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.choices import AppointmentStatus, Channel
from appointments.exceptions import SoldOut
from appointments.models import Schedule
from billing import exceptions as errors
from billing import services
from billing.choices import OrderStatus
from billing.models import Order
from billing.services import PaymentOutcome
from medbook import money
from members.patients import bookable_patients
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def place(member, schedule, now=None):
    return services.place_booking(member=member, schedule=schedule, channel=Channel.WEB, now=now)


@pytest.mark.parametrize(
    ("fee", "rate", "payable"),
    [
        ("50.00", "1.00", "50.00"),
        ("50.00", "0.95", "47.50"),
        ("33.33", "0.95", "31.66"),  # 31.6635 → 31.66
        ("12.50", "0.90", "11.25"),
        ("0.05", "0.90", "0.05"),  # 0.045 rounds half up
        ("300.00", "0.80", "240.00"),
    ],
)
def test_the_payable_amount_rounds_half_up_to_the_cent(fee, rate, payable) -> None:
    assert money.payable(fee=Decimal(fee), discount_rate=Decimal(rate)) == Decimal(payable)


def test_a_paid_session_opens_an_order_with_the_level_discount(levels) -> None:
    silver = MemberFactory(level=levels["银卡"])
    now = timezone.now()

    appointment = place(silver, ScheduleFactory(fee=Decimal("50.00")), now=now)

    order = appointment.order
    assert appointment.status == AppointmentStatus.PENDING_PAYMENT
    assert (order.original_amount, order.discount_rate, order.amount) == (
        Decimal("50.00"),
        Decimal("0.95"),
        Decimal("47.50"),
    )
    assert order.status == OrderStatus.UNPAID
    assert order.expires_at == now + dt.timedelta(minutes=15)
    assert order.out_trade_no.startswith("MB") and len(order.out_trade_no) == 26


def test_a_free_session_is_confirmed_without_an_order(member) -> None:
    appointment = place(member, ScheduleFactory(fee=Decimal("0")))

    assert appointment.status == AppointmentStatus.CONFIRMED
    assert not Order.objects.exists()


def test_a_refused_booking_leaves_no_order(member) -> None:
    schedule = ScheduleFactory(capacity=1)
    place(MemberFactory(), schedule)

    with pytest.raises(SoldOut):
        place(member, schedule)
    assert Order.objects.count() == 1


def test_a_payment_confirms_the_appointment_once(member) -> None:
    appointment = place(member, ScheduleFactory())
    order = appointment.order

    first = services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="T1", amount=order.amount
    )
    again = services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="T1", amount=order.amount
    )

    order.refresh_from_db()
    appointment.refresh_from_db()
    assert (first, again) == (PaymentOutcome.CONFIRMED, PaymentOutcome.ALREADY_APPLIED)
    assert order.status == OrderStatus.PAID
    assert order.gateway_trade_no == "T1"
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_a_second_different_payment_is_flagged_for_refund(member) -> None:
    order = place(member, ScheduleFactory()).order
    services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="T1", amount=order.amount
    )

    outcome = services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="T2", amount=order.amount
    )

    assert outcome == PaymentOutcome.REFUND_DUE
    order.refresh_from_db()
    assert order.gateway_trade_no == "T1"


def test_a_wrong_amount_or_unknown_order_writes_nothing(member) -> None:
    order = place(member, ScheduleFactory()).order

    with pytest.raises(errors.AmountMismatch):
        services.confirm_payment(
            out_trade_no=order.out_trade_no, gateway_trade_no="T1", amount=Decimal("0.01")
        )
    with pytest.raises(errors.UnknownOrder):
        services.confirm_payment(out_trade_no="MB-nope", gateway_trade_no="T1", amount=order.amount)
    order.refresh_from_db()
    assert (order.status, order.gateway_trade_no) == (OrderStatus.UNPAID, None)


def test_an_expired_hold_closes_the_order_and_frees_the_slot(
    member, other_member, django_capture_on_commit_callbacks
) -> None:
    schedule = ScheduleFactory(capacity=1)
    booked_at = timezone.now() - dt.timedelta(minutes=16)
    appointment = place(member, schedule, now=booked_at)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_unpaid_orders() == 1
    assert services.expire_unpaid_orders() == 0

    appointment.refresh_from_db()
    appointment.order.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by is None
    assert appointment.order.status == OrderStatus.CLOSED
    assert place(other_member, schedule).queue_number == 1


def test_a_hold_within_its_window_stays(member) -> None:
    place(member, ScheduleFactory(), now=timezone.now() - dt.timedelta(minutes=14))

    assert services.expire_unpaid_orders() == 0
    assert Order.objects.get().status == OrderStatus.UNPAID


def test_a_payment_after_the_hold_closed_is_flagged_for_refund(member) -> None:
    order = place(member, ScheduleFactory(), now=timezone.now() - dt.timedelta(minutes=20)).order
    services.expire_unpaid_orders()

    outcome = services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="LATE", amount=order.amount
    )

    order.refresh_from_db()
    assert outcome == PaymentOutcome.REFUND_DUE
    assert order.status == OrderStatus.CLOSED
    assert order.paid_at is None


def test_a_payment_for_an_appointment_cancelled_meanwhile_is_flagged_for_refund(member) -> None:
    from appointments.services import cancel_appointment

    appointment = place(member, ScheduleFactory())
    order = appointment.order
    cancel_appointment(appointment=appointment, by=member.user, reason="")

    outcome = services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no="T1", amount=order.amount
    )

    order.refresh_from_db()
    appointment.refresh_from_db()
    assert outcome == PaymentOutcome.REFUND_DUE
    assert (order.status, order.paid_at) == (OrderStatus.CLOSED, None)
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_web_booking_reads_nothing_it_holds_and_nests_no_savepoint(member) -> None:
    """The winner's statements (issue 12): the patient comes from the booking page with their
    card (none here), the order just opened is not read back, and the booking's transaction is
    one, with no savepoint of the booking core inside it."""
    schedule = ScheduleFactory(fee=Decimal("50.00"))
    read = Schedule.objects.select_related("doctor__department").get(pk=schedule.pk)
    patient = bookable_patients(member=member)[0]

    with CaptureQueriesContext(connection) as queries:
        appointment = services.place_booking(
            member=member, schedule=read, channel=Channel.WEB, patient=patient
        )

    sql = [q["sql"] for q in queries.captured_queries]
    # The test's transaction is around it, so place_booking's own is a savepoint: one.
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1, sql
    read_back = [
        s
        for s in sql
        if s.startswith("SELECT")
        and ("billing_order" in s.split(" WHERE")[0] or "members_insurancecard" in s)
    ]
    assert read_back == []
    assert appointment.order.status == OrderStatus.UNPAID
