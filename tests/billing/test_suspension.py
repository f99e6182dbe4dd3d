"""停诊: every active appointment cancelled and refunded exactly once, the members told."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from appointments import exceptions as booking_errors
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from appointments.services import check_in_appointment
from billing import services
from billing.gateways import sandbox
from billing.models import Order, Refund
from medbook.roles import CLINIC_ADMIN, FRONT_DESK
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.members.factories import MemberFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return staff(CLINIC_ADMIN, "admin1")


@pytest.fixture
def busy_session(levels):
    """A ¥80 session: two paid, one unpaid, one checked in, one cancelled earlier."""
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    appointments = []
    for i in range(5):
        appointment = services.place_booking(
            member=MemberFactory(), schedule=schedule, channel=Channel.WEB
        )
        if i != 2:
            trade = sandbox.pay(order=appointment.order)
            services.confirm_payment(
                out_trade_no=trade.out_trade_no,
                gateway_trade_no=trade.trade_no,
                amount=trade.amount,
            )
        appointments.append(appointment)
    check_in_appointment(appointment=appointments[3])
    services.cancel_booking(appointment=appointments[4], by=None, reason="行程有变")
    return schedule


def run_refund_jobs() -> None:
    for pk in Refund.objects.filter(status="requested").values_list("pk", flat=True):
        services.carry_out_refund(refund_id=pk)


@pytest.mark.core
def test_it_cancels_refunds_and_tells_everyone_once(busy_session, admin) -> None:
    result = services.suspend_schedule(schedule=busy_session, by=admin, reason="医生临时出诊任务")
    run_refund_jobs()

    assert result.cancelled == 4
    assert result.refunded == Decimal("240.00")  # three paid (one of them checked in)
    busy_session.refresh_from_db()
    assert (busy_session.status, busy_session.booked) == ("suspended", 0)
    assert busy_session.suspended_reason == "医生临时出诊任务"
    assert not Appointment.objects.filter(
        schedule=busy_session, status__in=["pending_payment", "confirmed", "checked_in"]
    ).exists()
    assert set(
        Order.objects.filter(appointment__schedule=busy_session).values_list("status", flat=True)
    ) == {"refunded", "closed"}
    assert Message.objects.filter(kind="suspended").count() == 4
    body = Message.objects.filter(kind="suspended").first().body
    assert "医生临时出诊任务" in body


@pytest.mark.core
def test_running_it_again_changes_nothing(busy_session, admin) -> None:
    services.suspend_schedule(schedule=busy_session, by=admin, reason="停诊")
    again = services.suspend_schedule(schedule=busy_session, by=admin, reason="停诊")
    run_refund_jobs()
    assert again.cancelled == 0
    assert Refund.objects.count() == 4  # three for suspension, one from the earlier cancel
    assert Message.objects.filter(kind="suspended").count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_suspensions_at_once_refund_each_appointment_once(busy_session, admin) -> None:
    def job():
        return services.suspend_schedule(
            schedule=Schedule.objects.get(pk=busy_session.pk), by=admin, reason="停诊"
        )

    results = run_in_threads([job, job, job])
    assert not [r for r in results if isinstance(r, Exception)], results
    run_refund_jobs()

    assert sum(r.cancelled for r in results) == 4
    paid = Order.objects.filter(appointment__schedule=busy_session, paid_at__isnull=False)
    for order in paid:
        assert order.refunded_amount == order.amount
        assert order.refunds.filter(stray_trade_no="").count() == 1
    assert Refund.objects.aggregate(total=Sum("amount"))["total"] == Decimal("320.00")
    assert Message.objects.filter(kind="suspended").count() == 4


@pytest.mark.core
def test_members_are_offered_the_same_doctors_next_free_session(busy_session, admin) -> None:
    later = ScheduleFactory(
        doctor=busy_session.doctor, date=busy_session.date + dt.timedelta(days=2)
    )
    services.suspend_schedule(schedule=busy_session, by=admin, reason="停诊")
    assert f"/book/{later.pk}/" in Message.objects.filter(kind="suspended").first().body


@pytest.mark.core
def test_front_desk_may_not_suspend(busy_session) -> None:
    with pytest.raises(booking_errors.NotAllowed):
        services.suspend_schedule(
            schedule=busy_session, by=staff(FRONT_DESK, "desk1"), reason="停诊"
        )
    busy_session.refresh_from_db()
    assert busy_session.status == "published"


@pytest.mark.core
def test_a_finished_session_cannot_be_suspended(levels, admin) -> None:
    schedule = ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=1), status="finished")
    with pytest.raises(booking_errors.ScheduleInPast):
        services.suspend_schedule(schedule=schedule, by=admin, reason="停诊")


@pytest.mark.core
def test_walk_ins_take_a_free_slot_or_an_extra_number(levels) -> None:
    desk = staff(FRONT_DESK, "desk2")
    schedule = ScheduleFactory(fee=0, capacity=1, release_at=timezone.now() + dt.timedelta(days=1))
    first = services.register_walk_in(member=MemberFactory(), schedule=schedule, by=desk)
    assert (first.channel, first.status, first.queue_number) == ("walk_in", "confirmed", 1)

    with pytest.raises(booking_errors.SoldOut):
        services.register_walk_in(member=MemberFactory(), schedule=schedule, by=desk)
    with pytest.raises(booking_errors.ExtraNumbersNotAllowed):
        services.register_walk_in(
            member=MemberFactory(), schedule=schedule, by=desk, extra_number=True
        )
    schedule.doctor.allows_extra_numbers = True
    schedule.doctor.save()
    extra = services.register_walk_in(
        member=MemberFactory(), schedule=schedule, by=desk, extra_number=True
    )
    schedule.refresh_from_db()
    assert (extra.queue_number, schedule.capacity, schedule.booked) == (2, 2, 2)
    assert extra.status == AppointmentStatus.CONFIRMED
