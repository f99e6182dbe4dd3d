"""Rescheduling with the money (改约): the booking moves (appointments' reschedule service) and
its order follows it, in one transaction — so the member never pays twice, and never loses or
doubles a refund.

Money, by what the new session costs at the order's own price factor (``money.payable``)
against what the booking has paid and keeps (``booking_kept``: its order and the earlier
orders it tops up, less refunds):

* the same: the paid order moves to the new appointment as it is;
* less: the order moves and the difference is refunded through the gateway it was paid
  with (``request_refund``: the refund row and its job are written in this transaction);
* more: the move waits for the difference (补差价). The new slot is taken and held as a
  booking awaiting payment, with a top-up order for the difference on the same gateway
  (``Order.top_up_of``: the booking's order), due within the hold window; the old
  appointment stays confirmed. When the top-up is paid (:func:`finish_top_up`, in the
  payment's transaction) the move completes: the old appointment is cancelled as moved, its
  slot freed. A top-up that runs out unpaid is closed and its hold freed like any other;
  nothing else changed. Never both slots kept, never neither lost: each step is one
  transaction on the same locks. The booking's money is then its top-up plus the order it
  tops up: a cancellation refunds both, a completed visit earns points on both.

An unpaid hold moves too, with its deadline: the order itself when the amount is the same (a
payment already on its way then pays the new appointment), else it is closed and a new one
for the new amount, due by the same time, takes its place (a payment of the closed order that
still arrives is sent back, as for any closed order). A hold that ran out does not move.

Lock order: the booking's order rows in id order (the earliest first), as a cancellation and
a payment take them, then the booking core's (member, the two sessions in id order, the
appointment). Points are not touched: they are earned when the visit is completed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments import exceptions as appointment_errors
from appointments import selectors as appointment_selectors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Reschedule, Schedule
from appointments.services import Rescheduled
from medbook import audit, money
from members.models import User

from .. import exceptions as errors
from .. import notices
from ..choices import Gateway, OrderStatus
from ..insurance import services as insurance
from ..insurance.base import InsuredVisitNotMovable
from ..models import Order
from .orders import abandon_top_up, close_expired, lock_booking_orders, new_out_trade_no
from .refunds import REFUNDABLE_STATUSES, booking_kept, kept_amount, request_refund

__all__ = [
    "RESCHEDULE_REFUND_REASON",
    "RescheduleOutcome",
    "finish_top_up",
    "reschedule_booking",
]

RESCHEDULE_REFUND_REASON = "改约差额退款"


@dataclass(frozen=True)
class RescheduleOutcome:
    """A booking moved, and what became of its money."""

    old: Appointment
    new: Appointment
    record: Reschedule
    order: Order | None  # the new appointment's order (moved, new for a new amount, top-up)
    refund: Decimal  # the difference on its way back (0 when none)

    @property
    def awaiting_difference(self) -> bool:
        """A move to a dearer session: done once the top-up ``order`` is paid."""
        return self.record.completed_at is None


def reschedule_booking(
    *,
    appointment: Appointment,
    schedule: Schedule,
    by: User,
    reason: str = "",
    now: dt.datetime | None = None,
) -> RescheduleOutcome:
    """Move ``appointment`` to ``schedule`` (the appointments' rules: who, when, where to, how
    often) and settle its order there, in one transaction; tell the member; log a move staff
    made for a member. Raises the booking core's AppointmentError or a PaymentError (hold
    expired, costs more) and then writes nothing."""
    now = now or timezone.now()
    settled: dict[str, object] = {}
    with transaction.atomic():
        orders = lock_booking_orders(appointment.pk)
        if any(insurance.claim_of(paid) for paid in orders):
            raise InsuredVisitNotMovable()
        order = orders[-1] if orders else None
        if order is not None:
            _close_expired_top_ups(order, now)
        kept = booking_kept(orders)
        dearer = (
            order is not None
            and order.status in REFUNDABLE_STATUSES
            and money.payable(fee=schedule.fee, discount_rate=order.discount_rate) > kept
        )

        def settle(moved: Rescheduled) -> None:
            settled["order"], settled["refund"] = _settle_order(
                orders=orders, moved=moved, by=by, now=now
            )

        moved = appointment_services.reschedule_appointment(
            appointment=appointment,
            schedule=schedule,
            by=by,
            reason=reason,
            now=now,
            then=settle,
            hold=dearer,
        )
        new_order = settled["order"]
        refund = settled["refund"]
        if dearer:
            notices.move_awaiting_difference(moved.old, moved.new, order=new_order)
        else:
            notices.rescheduled(moved.old, moved.new, order=new_order, refund=refund)
        if moved.for_member:
            audit.record(
                actor=by,
                action="appointment.reschedule_for_member",
                target=moved.new,
                reason=moved.record.reason,
                detail={
                    "from": moved.old.pk,
                    "to": moved.new.pk,
                    "refund": str(refund),
                    "difference": str(new_order.amount) if dearer else "0.00",
                },
            )
    return RescheduleOutcome(
        old=moved.old, new=moved.new, record=moved.record, order=new_order, refund=refund
    )


def _close_expired_top_ups(order: Order, now: dt.datetime) -> None:
    """A move to a dearer session whose difference ran out unpaid ends here if the expiry job
    has not ended it yet (its hold freed), so that it no longer stands in the way."""
    for top_up in (
        Order.objects.select_for_update()
        .filter(top_up_of=order, status=OrderStatus.UNPAID, expires_at__lte=now)
        .order_by("pk")
    ):
        close_expired(order=top_up, now=now)


def _settle_order(
    *, orders: list[Order], moved: Rescheduled, by: User, now: dt.datetime
) -> tuple[Order | None, Decimal]:
    """The order's side of a move (in its transaction, the booking's orders locked): the
    order the new appointment holds and the refund asked for."""
    new = moved.new
    order = orders[-1] if orders else None
    if order is None:
        if new.fee > 0:
            # A free visit has nothing paid to carry to a session with a fee.
            raise errors.RescheduleCostsMore(new.fee)
        return None, money.ZERO
    due = money.payable(fee=new.fee, discount_rate=order.discount_rate)
    if order.status == OrderStatus.UNPAID:
        return _move_hold(order=order, new=new, due=due, now=now), money.ZERO
    kept = booking_kept(orders)
    if moved.record.completed_at is None:
        if due <= kept:  # the fee changed between the choice and the locks
            raise appointment_errors.ScheduleUnavailable()
        return _top_up(order=order, new=new, due=due, kept=kept, now=now), money.ZERO
    if due > kept:
        raise errors.RescheduleCostsMore(due - kept)
    order.appointment = new
    order.save(update_fields=["appointment"])
    refund = kept - due
    left = refund
    for paid in reversed(orders):  # the latest payment goes back first
        share = min(left, kept_amount(paid))
        if share > 0:
            request_refund(order=paid, reason=RESCHEDULE_REFUND_REASON, by=by, amount=share)
            left -= share
    return order, refund


def _top_up(
    *, order: Order, new: Appointment, due: Decimal, kept: Decimal, now: dt.datetime
) -> Order:
    """The order for the difference of a move to a dearer session, holding the new slot as a
    booking's order does, on the gateway the booking was paid with (online: a payment taken
    at the desk is topped up on the clinic's gateway, or at the desk again)."""
    gateway = order.gateway
    if gateway == Gateway.COUNTER:
        gateway = settings.MEDBOOK_PAYMENT_GATEWAY
    return Order.objects.create(
        appointment=new,
        member=order.member,
        out_trade_no=new_out_trade_no(now),
        gateway=gateway,
        original_amount=new.fee,
        discount_rate=order.discount_rate,
        amount=due - kept,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
        top_up_of=order,
    )


def finish_top_up(*, order: Order, now: dt.datetime) -> bool:
    """A top-up (locked, with the order it tops up, by the payment) is being paid: complete
    its move — True. False when the move can no longer complete (the booking was cancelled
    or its session suspended meanwhile): the top-up is closed and its hold freed, and the
    caller sends the money back."""
    record = appointment_selectors.pending_move(order.appointment)
    if record is not None:
        try:
            moved = appointment_services.complete_move(record=record, now=now)
        except appointment_errors.AppointmentError:
            moved = None
        if moved is not None:
            notices.rescheduled(moved.old, moved.new, order=order, refund=money.ZERO)
            return True
    abandon_top_up(order=order, now=now)
    return False


def _move_hold(*, order: Order, new: Appointment, due: Decimal, now: dt.datetime) -> Order | None:
    """An unpaid hold follows the booking with its deadline: the same order for the same
    amount, else a new one (the old one closed). None when the new session is free (confirmed
    at once by the appointments' service)."""
    if order.expires_at <= now:
        raise errors.HoldExpired()
    if new.status == AppointmentStatus.CONFIRMED:
        _close(order, now)
        return None
    if due == order.amount:
        order.appointment = new
        order.original_amount = new.fee
        order.save(update_fields=["appointment", "original_amount"])
        return order
    _close(order, now)
    return Order.objects.create(
        appointment=new,
        member=order.member,
        out_trade_no=new_out_trade_no(now),
        gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
        original_amount=new.fee,
        discount_rate=order.discount_rate,
        amount=due,
        created_at=now,
        expires_at=order.expires_at,
    )


def _close(order: Order, now: dt.datetime) -> None:
    order.status = OrderStatus.CLOSED
    order.closed_at = now
    order.save(update_fields=["status", "closed_at"])
