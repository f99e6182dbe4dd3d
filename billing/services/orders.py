"""Orders: booking with the order that holds a paid slot, closing holds that ran out, and
cancelling with the settlement of the order (closed when unpaid, refunded when paid).

Lock order: the order row first, then (through the appointments services) the schedule and the
appointment, then the member; so a payment, the expiry job, a cancellation and a refund racing
for one order never deadlock and exactly one of them decides.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments import exceptions as appointment_errors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule, WaitlistEntry
from medbook import audit, metrics, money
from members.models import Member, Patient, User

from .. import notices
from ..choices import OrderStatus
from ..insurance import services as insurance
from ..models import Order
from .refunds import REFUNDABLE_STATUSES, kept_amount, request_refund

__all__ = [
    "EXPIRED_HOLD_REASON",
    "MOVE_ABANDONED_REASON",
    "abandon_top_up",
    "cancel_booking",
    "cancellation_refund",
    "close_expired",
    "expire_holds_of_schedule",
    "expire_order",
    "expire_unpaid_orders",
    "lock_booking_orders",
    "new_out_trade_no",
    "place_booking",
]

EXPIRED_HOLD_REASON = "未在规定时间内支付，号源已释放"
# The held new slot of a move whose booking was cancelled (or whose difference came too late).
MOVE_ABANDONED_REASON = "改约未完成，号源已释放"


def new_out_trade_no(now: dt.datetime) -> str:
    """MB + clinic-time timestamp + 10 random digits: unique, sortable, unguessable."""
    return f"MB{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def place_booking(
    *,
    member: Member,
    schedule: Schedule,
    channel: Channel,
    now: dt.datetime | None = None,
    by: User | None = None,
    override_reason: str = "",
    walk_in: bool = False,
    patient: Patient | None = None,
    slot: int | None = None,
) -> Appointment:
    """Book a slot for ``patient`` (the account holder when None) and, when the session has a
    fee, open the order that holds it (the member pays). ``slot``: the chosen time slot of a
    split session (分时段); None takes the earliest with a place.

    A free session is confirmed at once; a paid one stays pending until paid or until the hold
    (``MEDBOOK_HOLD_MINUTES``) runs out. A hold stops holding its slot the moment it runs out:
    when the session looks full, expired holds are closed here and the booking tried again,
    whether or not the expiry job has run. Raises the booking core's AppointmentError.
    """
    now = now or timezone.now()
    booking = {
        "member": member,
        "schedule": schedule,
        "channel": channel,
        "now": now,
        "by": by,
        "override_reason": override_reason,
        "walk_in": walk_in,
        "patient": patient,
        "slot": slot,
    }
    try:
        appointment = _place_or_retry(booking)
    except appointment_errors.AppointmentError as exc:
        metrics.count_booking(exc.code)
        raise
    metrics.count_booking("won")
    return appointment


def _place_or_retry(booking: dict) -> Appointment:
    try:
        return _place_booking(**booking)
    except appointment_errors.SoldOutHint:
        raise  # the hint never outlives the session's earliest hold
    except (
        appointment_errors.SoldOut,
        appointment_errors.SlotFull,
        appointment_errors.AlreadyBooked,
    ):
        # Full, or held by this member: an expired hold (or waitlist offer, when nobody else
        # waits) may be what stands in the way.
        schedule_id, now = booking["schedule"].pk, booking["now"]
        expired = expire_holds_of_schedule(schedule_id=schedule_id, now=now)
        if not (expired or appointment_services.expire_offers_of_schedule(schedule_id, now=now)):
            raise
    return _place_booking(**booking)


def _place_booking(
    *,
    member: Member,
    schedule: Schedule,
    channel: Channel,
    now: dt.datetime,
    by: User | None,
    override_reason: str,
    walk_in: bool,
    patient: Patient | None,
    offer: WaitlistEntry | None = None,
    slot: int | None = None,
) -> Appointment:
    def order_and_notice(appointment: Appointment) -> None:
        """In the booking's transaction: the order that holds a paid slot, the message."""
        order = None
        if appointment.status == AppointmentStatus.PENDING_PAYMENT:
            rate = appointment.member.level.discount_rate
            order = Order.objects.create(
                appointment=appointment,
                member=appointment.member,
                out_trade_no=out_trade_no,
                gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
                original_amount=appointment.fee,
                discount_rate=rate,
                amount=money.payable(fee=appointment.fee, discount_rate=rate),
                created_at=now,
                expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
            )
            # An insured patient: the insurer settles its parts, the member pays the rest.
            insurance.settle_order(
                order=order, appointment=appointment, now=now, presettled=presettled
            )
        notices.booked(appointment, order)

    out_trade_no = new_out_trade_no(now)
    # A remote insurer settles before the transaction (never the network inside one) and
    # is given everything back if the booking fails.
    presettled = insurance.presettle(
        member=member, schedule=schedule, patient=patient, out_trade_no=out_trade_no, now=now
    )
    try:
        with transaction.atomic():
            appointment = appointment_services.book_appointment(
                member=member,
                schedule=schedule,
                channel=channel,
                now=now,
                by=by,
                override_reason=override_reason,
                walk_in=walk_in,
                patient=patient,
                then=order_and_notice,
                offer=offer,
                slot=slot,
                savepoint=False,  # this transaction is the booking's: undone whole on an error
            )
            insurance.pay_by_insurer(appointment=appointment, now=now)
    except BaseException:
        if presettled is not None:
            insurance.undo_presettle(presettled, now=now)
        raise
    return appointment


def expire_order(*, order_id: int, now: dt.datetime | None = None) -> bool:
    """Close one unpaid order whose hold ran out and free its slot. False if it was not due."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_id, status=OrderStatus.UNPAID, expires_at__lte=now)
            .first()
        )
        if order is None:
            return False
        close_expired(order=order, now=now)
    return True


def close_expired(*, order: Order, now: dt.datetime) -> None:
    """Close an unpaid order whose hold ran out (locked by the caller) and free its slot."""
    order.status = OrderStatus.CLOSED
    order.closed_at = now
    order.save(update_fields=["status", "closed_at"])
    insurance.release_claim(order=order, now=now)
    appointment = appointment_services.cancel_appointment(
        appointment=order.appointment, by=None, reason=EXPIRED_HOLD_REASON, now=now
    )
    if order.top_up_of_id is not None:
        notices.move_lapsed(appointment)  # the booking it would have moved stays
    else:
        notices.hold_expired(appointment)


def expire_holds_of_schedule(*, schedule_id: int, now: dt.datetime) -> int:
    """Close the expired holds of one schedule at once (a booking found it full). Returns how
    many slots that freed."""
    due = Order.objects.filter(
        appointment__schedule_id=schedule_id, status=OrderStatus.UNPAID, expires_at__lte=now
    ).values_list("pk", flat=True)
    return sum(expire_order(order_id=pk, now=now) for pk in list(due))


def expire_unpaid_orders(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Close unpaid orders past their hold (the periodic job). Safe to run twice, anywhere."""
    now = now or timezone.now()
    due = (
        Order.objects.filter(status=OrderStatus.UNPAID, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(expire_order(order_id=pk, now=now) for pk in list(due))


def cancel_booking(
    *,
    appointment: Appointment,
    by: User | None,
    reason: str,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Cancel an appointment under the booking core's rules and settle its order.

    An unpaid order is closed; a paid one is refunded in full through its gateway, with the
    earlier order a paid top-up (a move to a dearer session) was paid on top of. A move of
    this booking still awaiting its difference ends with it (its held slot freed). Raises the
    booking core's AppointmentError when the cancellation is not allowed, changing nothing.
    The refund requested is on ``appointment.refund_requested``. ``notify=False`` leaves the
    message to the caller (a suspension writes its own).
    """
    with transaction.atomic():
        orders = lock_booking_orders(appointment.pk)
        order = orders[-1] if orders else None
        top_ups = (
            list(
                Order.objects.select_for_update()
                .filter(top_up_of=order, status=OrderStatus.UNPAID)
                .select_related("appointment")
                .order_by("pk")
            )
            if order is not None
            else []
        )
        appointment = appointment_services.cancel_appointment(
            appointment=appointment, by=by, reason=reason, now=now
        )
        amount = money.ZERO
        if order is not None and order.status == OrderStatus.UNPAID:
            order.status = OrderStatus.CLOSED
            order.closed_at = appointment.cancelled_at
            order.save(update_fields=["status", "closed_at"])
            insurance.release_claim(order=order, now=appointment.cancelled_at)
        elif order is not None and order.status in REFUNDABLE_STATUSES:
            for paid in orders:  # a paid top-up: the earlier order pays for this visit too
                share = cancellation_refund(
                    order=paid, appointment=appointment, by=by, now=appointment.cancelled_at
                )
                claim = insurance.claim_of(paid)
                if claim is not None:
                    # Insured: each payer's part goes back alike; the member's through the
                    # gateway (never more than is left of what they paid).
                    charge = _cancellation_charge(
                        order=paid, appointment=appointment, by=by, now=appointment.cancelled_at
                    )
                    whole = charge == insurance.unreversed(claim).total
                    share = insurance.reverse_claim(
                        order=paid, amount=charge, now=appointment.cancelled_at
                    ).self_pay
                    share = min(share, kept_amount(paid))
                    if whole and paid.amount == 0:
                        # The insurer paid it all: with its parts given back, nothing is left
                        # paid on the order.
                        paid.status = OrderStatus.REFUNDED
                        paid.save(update_fields=["status"])
                if share > 0:
                    request_refund(order=paid, reason=reason or "预约已取消", by=by, amount=share)
                amount += share
        for top_up in top_ups:
            abandon_top_up(order=top_up, now=appointment.cancelled_at)
        if notify:
            notices.cancelled(appointment, amount)
        if by is not None and by.pk != appointment.member.user_id:
            audit.record(
                actor=by, action="appointment.cancel_for_member", target=appointment, reason=reason
            )
    appointment.refund_requested = amount
    return appointment


def cancellation_refund(
    *, order: Order, appointment: Appointment, by: User | None, now: dt.datetime
) -> Decimal:
    """What cancelling at ``now`` gives back: all that is left, except a member's own late
    cancellation (a privilege of higher levels), which gets ``MEDBOOK_LATE_CANCEL_REFUND_PERCENT``
    of it, rounded down to the cent. Also shown to the member before they cancel. An insured
    visit gives back the member's own part of that share of the charge (the insurer's parts go
    back to the insurer)."""
    claim = insurance.claim_of(order)
    if claim is not None:
        charge = _cancellation_charge(order=order, appointment=appointment, by=by, now=now)
        return insurance.refund_split(claim=claim, amount=charge).self_pay
    return _cancellation_charge(order=order, appointment=appointment, by=by, now=now)


def _cancellation_charge(
    *, order: Order, appointment: Appointment, by: User | None, now: dt.datetime
) -> Decimal:
    """The share of the order's charge (for an insured visit: of all its payers' parts) that
    cancelling at ``now`` gives back."""
    claim = insurance.claim_of(order)
    if claim is not None:
        remaining = insurance.unreversed(claim).total
    else:
        remaining = order.amount - order.refunded_amount
    if order.status not in REFUNDABLE_STATUSES:
        return money.ZERO
    cutoff = appointment.schedule.starts_at - dt.timedelta(
        hours=settings.MEDBOOK_CANCEL_CUTOFF_HOURS
    )
    own_late = by is not None and by.pk == appointment.member.user_id and now >= cutoff
    if not own_late or by.has_perm("appointments.cancel_any_appointment"):
        return remaining
    return money.refund_share(
        remaining=remaining, percent=settings.MEDBOOK_LATE_CANCEL_REFUND_PERCENT
    )


def lock_booking_orders(appointment_id: int) -> list[Order]:
    """The appointment's order and the earlier orders it tops up (after a move to a dearer
    session), locked in id order, earliest first; [] when it has none."""
    ids = []
    row = Order.objects.filter(appointment_id=appointment_id).values_list("pk", "top_up_of_id")
    found = row.first()
    while found is not None:
        ids.append(found[0])
        found = (
            Order.objects.filter(pk=found[1]).values_list("pk", "top_up_of_id").first()
            if found[1]
            else None
        )
    locked = {
        order.pk: order
        for order in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    return [locked[pk] for pk in reversed(ids)]


def abandon_top_up(*, order: Order, now: dt.datetime) -> None:
    """End a move awaiting its difference (the top-up ``order`` locked): closed, its held
    slot freed; the booking it would have moved stays as it is."""
    order.status = OrderStatus.CLOSED
    order.closed_at = now
    order.save(update_fields=["status", "closed_at"])
    if order.appointment.status == AppointmentStatus.PENDING_PAYMENT:
        appointment_services.cancel_appointment(
            appointment=order.appointment, by=None, reason=MOVE_ABANDONED_REASON, now=now
        )
