"""Reads for rescheduling (改约) pages, member's and staff's: whether a booking may move, the
sessions it may move to with what each means for the money, and where a booking came from or
went to. The reschedule service (billing.services.reschedule) decides again with the rows
locked; these say what to offer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from appointments import exceptions as booking_errors
from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Reschedule, Schedule
from appointments.selectors import (
    RescheduleTarget,
    bookable_schedule,
    cancellation_cutoff,
    moves_so_far,
    reschedule_blocker,
    reschedule_targets,
    target_refusal,
)
from medbook import money
from medbook.errors import DomainError
from members.models import User

from . import exceptions as payment_errors
from .choices import OrderStatus
from .insurance import services as insurance
from .insurance.base import InsuredVisitNotMovable
from .models import Order
from .selectors import not_cancellable_online, order_of
from .services import booking_kept

__all__ = [
    "MoveOption",
    "RescheduleLinks",
    "ReschedulePage",
    "booking_orders",
    "chosen_target",
    "move_option",
    "reschedule_links",
    "reschedule_page",
]


@dataclass(frozen=True)
class MoveOption:
    """A session the booking could move to, and what moving there means for the money."""

    target: RescheduleTarget
    due: Decimal  # what the new session costs at the order's price factor
    refund: Decimal  # given back (a cheaper session)
    extra: Decimal  # costs more than was paid: the difference to pay to complete the move
    late: bool  # once moved, it could not be cancelled online (inside the cutoff)
    blocker: DomainError | None

    @property
    def schedule(self) -> Schedule:
        return self.target.schedule

    @property
    def can_move(self) -> bool:
        return self.blocker is None


@dataclass(frozen=True)
class ReschedulePage:
    """What the reschedule page shows for one booking."""

    appointment: Appointment
    blocker: booking_errors.AppointmentError | None  # why it cannot move at all now
    options: list[MoveOption]
    order: Order | None
    paid: Decimal  # what the member has paid and keeps paid (0 for an unpaid hold)
    moves: int  # times this booking has been moved already
    limit: int  # times a member may move it (their level's)
    monthly: int | None  # moves a member may make a month (their level's; None: any)
    cutoff: dt.datetime
    for_member: bool  # staff moving it for the member

    @property
    def can_move(self) -> bool:
        return self.blocker is None and any(option.can_move for option in self.options)

    @property
    def is_hold(self) -> bool:
        """The booking is an unpaid hold: each session shows what the new hold would cost."""
        return self.order is not None and self.order.status == OrderStatus.UNPAID

    @property
    def any_late(self) -> bool:
        return any(option.late and option.can_move for option in self.options)


def _move_blocker(
    *, appointment: Appointment, by: User, now: dt.datetime, moves: int
) -> booking_errors.AppointmentError | None:
    """Why ``by`` cannot move ``appointment`` now: the booking core's rules, then billing's
    (a visit settled with the insurer names its session and is not moved)."""
    blocker = reschedule_blocker(appointment=appointment, by=by, now=now, moves=moves)
    if blocker is None and insurance.selected_claim(order_of(appointment)) is not None:
        return InsuredVisitNotMovable()
    return blocker


def booking_orders(order: Order | None) -> list[Order]:
    """``order`` and the earlier orders it tops up (a move to a dearer session), earliest
    first."""
    orders = []
    while order is not None:
        orders.insert(0, order)
        order = order.top_up_of
    return orders


def _money(order: Order | None, schedule: Schedule) -> tuple[Decimal, Decimal, Decimal]:
    """(due, refund, extra) of moving a booking with ``order`` to ``schedule``."""
    if order is None:
        return schedule.fee, money.ZERO, schedule.fee
    due = money.payable(fee=schedule.fee, discount_rate=order.discount_rate)
    if order.status == OrderStatus.UNPAID:
        return due, money.ZERO, money.ZERO  # the hold moves, at the new amount
    kept = booking_kept(booking_orders(order))
    return due, max(kept - due, money.ZERO), max(due - kept, money.ZERO)


def move_option(
    *,
    target: RescheduleTarget,
    order: Order | None,
    appointment: Appointment,
    now: dt.datetime,
    for_member: bool,
) -> MoveOption:
    schedule = target.schedule
    due, refund, extra = _money(order, schedule)
    blocker: DomainError | None = target.availability.blocker
    if blocker is None and order is None and extra > 0:
        # A free visit has no payment to top up.
        blocker = payment_errors.RescheduleCostsMore(extra)
    return MoveOption(
        target=target,
        due=due,
        refund=refund,
        extra=extra,
        late=not for_member
        and not_cancellable_online(schedule=schedule, member=appointment.member, now=now),
        blocker=blocker,
    )


def reschedule_page(*, appointment: Appointment, by: User, now: dt.datetime) -> ReschedulePage:
    """The reschedule page of ``appointment`` (looked up for ``by`` by the caller): whether it
    may move, and to where, each session with the money it means."""
    for_member = by.pk != appointment.member.user_id
    moves = moves_so_far(appointment)
    blocker = _move_blocker(appointment=appointment, by=by, now=now, moves=moves)
    order = order_of(appointment)
    options = []
    if blocker is None:
        options = [
            move_option(
                target=target,
                order=order,
                appointment=appointment,
                now=now,
                for_member=for_member,
            )
            for target in reschedule_targets(appointment=appointment, by=by, now=now)
        ]
    return ReschedulePage(
        appointment=appointment,
        blocker=blocker,
        options=options,
        order=order,
        paid=booking_kept(booking_orders(order)),
        moves=moves,
        limit=appointment.member.level.reschedules_per_booking,
        monthly=appointment.member.level.reschedules_per_month,
        cutoff=cancellation_cutoff(appointment.schedule),
        for_member=for_member,
    )


def chosen_target(
    *, appointment: Appointment, pk: int | None, by: User
) -> tuple[Schedule | None, booking_errors.AppointmentError | None]:
    """The session a form or an API call chose to move ``appointment`` to: None and why not
    when there is no such released session, or it is no place for this booking to go."""
    schedule = bookable_schedule(pk=pk) if pk else None
    if schedule is None:
        return None, booking_errors.ScheduleUnavailable()
    for_member = by.pk != appointment.member.user_id
    return schedule, target_refusal(
        appointment=appointment, schedule=schedule, for_member=for_member
    )


@dataclass(frozen=True)
class RescheduleLinks:
    """Where a booking was moved from and to, and whether the viewer may move it now."""

    moved_from: Appointment | None  # the appointment this one replaced
    moved_to: Appointment | None  # the appointment that replaced this one
    moves: int  # times the booking was moved before it became this appointment
    blocker: booking_errors.AppointmentError | None  # why the viewer cannot move it now
    # A move to a dearer session awaiting its difference: the held new appointment (seen from
    # the old one), or the appointment it is to replace (seen from the held one).
    awaiting_to: Appointment | None = None
    awaiting_from: Appointment | None = None

    @property
    def can_move(self) -> bool:
        return self.blocker is None


def reschedule_links(*, appointment: Appointment, by: User, now: dt.datetime) -> RescheduleLinks:
    """For ``appointment`` (read with its member's level and its session): the appointments it
    replaced and was replaced by, in one query, and whether ``by`` may move it now."""
    rows = list(
        Reschedule.objects.filter(
            Q(from_appointment_id=appointment.pk) | Q(to_appointment_id=appointment.pk)
        ).select_related("from_appointment__schedule__doctor", "to_appointment__schedule__doctor")
    )
    came = next((row for row in rows if row.to_appointment_id == appointment.pk), None)
    went = next(
        (r for r in rows if r.from_appointment_id == appointment.pk and r.completed_at), None
    )
    awaiting = next(
        (
            r
            for r in rows
            if r.from_appointment_id == appointment.pk
            and r.completed_at is None
            and r.to_appointment.status == AppointmentStatus.PENDING_PAYMENT
        ),
        None,
    )
    done = came is not None and came.completed_at is not None
    moves = came.sequence if came is not None else 0
    return RescheduleLinks(
        moved_from=came.from_appointment if done else None,
        moved_to=went.to_appointment if went is not None else None,
        moves=moves,
        blocker=_move_blocker(appointment=appointment, by=by, now=now, moves=moves),
        awaiting_to=awaiting.to_appointment if awaiting is not None else None,
        awaiting_from=(
            came.from_appointment
            if came is not None
            and not done
            and appointment.status == AppointmentStatus.PENDING_PAYMENT
            else None
        ),
    )
