"""Completing a visit: legal transitions only, and points for what was paid, in one go."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments import exceptions as booking_errors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel
from billing import services
from billing.gateways import sandbox
from members.models import PointsEntry, PointsReason
from members.selectors import members_with_ledger_drift
from members.services import add_points
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def paid_and_checked_in(member, fee="50.00"):
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal(fee)), channel=Channel.WEB
    )
    if appointment.status == AppointmentStatus.PENDING_PAYMENT:
        order = appointment.order
        trade = sandbox.pay(order=order)
        services.confirm_payment(
            out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
        )
    return appointment_services.check_in_appointment(appointment=appointment)


@pytest.mark.parametrize(
    ("level", "points"),
    [("普通", 50), ("银卡", 57), ("金卡", 67), ("钻石", 80)],  # 50×1, 47.5×1.2, 45×1.5, 40×2
)
def test_a_paid_visit_earns_points_for_what_was_paid(levels, level, points) -> None:
    member = MemberFactory(level=levels[level])
    appointment = paid_and_checked_in(member)

    done = services.complete_visit(appointment=appointment)

    entry = PointsEntry.objects.get()
    member.refresh_from_db()
    assert done.status == AppointmentStatus.COMPLETED
    assert (entry.delta, entry.reason, entry.reference) == (
        points,
        PointsReason.VISIT,
        f"appointment:{appointment.pk}",
    )
    assert member.points_balance == points
    assert not members_with_ledger_drift().exists()


def test_reaching_a_threshold_raises_the_level(levels) -> None:
    member = MemberFactory(level=levels["普通"])
    add_points(member=member, delta=460, reason=PointsReason.ADJUSTMENT, note="活动赠送")

    services.complete_visit(appointment=paid_and_checked_in(member))

    member.refresh_from_db()
    assert (member.points_balance, member.level) == (510, levels["银卡"])


def test_a_free_visit_earns_no_points(member) -> None:
    services.complete_visit(appointment=paid_and_checked_in(member, fee="0"))

    assert not PointsEntry.objects.exists()


def test_a_visit_is_completed_and_rewarded_once(member) -> None:
    appointment = paid_and_checked_in(member)
    services.complete_visit(appointment=appointment)

    with pytest.raises(booking_errors.IllegalTransition):
        services.complete_visit(appointment=appointment)
    assert PointsEntry.objects.count() == 1


def test_a_visit_must_be_checked_in_before_it_is_completed(member) -> None:
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("0")), channel=Channel.WEB
    )

    with pytest.raises(booking_errors.IllegalTransition, match="已确认"):
        services.complete_visit(appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert not PointsEntry.objects.exists()


def test_an_unpaid_appointment_cannot_be_checked_in(member) -> None:
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(), channel=Channel.WEB
    )

    with pytest.raises(booking_errors.IllegalTransition):
        appointment_services.check_in_appointment(appointment=appointment)


def test_a_visit_completed_by_staff_is_in_the_operation_log(member, doctor_user) -> None:
    from medbook.models import OperationLog

    appointment = paid_and_checked_in(member)
    services.complete_visit(appointment=appointment, by=doctor_user)

    log = OperationLog.objects.get(action="appointment.complete")
    assert (log.actor, log.target_id) == (doctor_user, str(appointment.pk))
