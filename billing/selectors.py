"""Reads of billing for its pages: a member's appointments with their orders and what the member
may do with each (member pages), one appointment, member or session as the front desk sees it
(staff console), and the sandbox cashier's record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from appointments import exceptions as errors
from appointments import selectors as appointment_selectors
from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Department, Schedule
from appointments.selectors import (
    Availability,
    StaffActions,
    appointments_for_member,
    cancel_blocker,
    cancellation_cutoff,
    schedule_availability,
    staff_actions,
)
from appointments.services import may_run_queue
from medbook import money
from members import selectors as member_selectors
from members.models import Member, MemberLevel, PointsEntry, User

from .choices import OrderStatus, RefundStatus
from .gateways import GatewayError, get_gateway, sandbox
from .models import Order, SandboxTrade
from .services import cancellation_refund


def member_appointments(*, member: Member, upcoming: bool) -> QuerySet[Appointment]:
    """The member's appointments with doctor, department and order in one query."""
    return appointments_for_member(member=member, upcoming=upcoming).select_related("order")


def member_appointment(*, member: Member, pk: int) -> Appointment:
    """One of the member's own appointments; anyone else's is a 404, so ids tell nothing."""
    appointment = (
        Appointment.objects.select_related("schedule__doctor__department", "member__level", "order")
        .filter(pk=pk, member=member)
        .first()
    )
    if appointment is None:
        raise Http404("no such appointment")
    return appointment


def order_of(appointment: Appointment) -> Order | None:
    try:
        return appointment.order
    except Order.DoesNotExist:
        return None


def payable_order(appointment: Appointment, now: dt.datetime) -> Order | None:
    """The order still waiting for this member's money, if any."""
    order = order_of(appointment)
    if (
        order is not None
        and appointment.status == AppointmentStatus.PENDING_PAYMENT
        and order.status == OrderStatus.UNPAID
        and order.expires_at > now
    ):
        return order
    return None


@dataclass(frozen=True)
class CancelTerms:
    """What cancelling means for the member right now, shown before they confirm."""

    blocker: errors.AppointmentError | None
    cutoff: dt.datetime
    late: bool  # past the free cutoff (allowed only with the level's privilege)
    refund: Decimal
    paid: Decimal

    @property
    def allowed(self) -> bool:
        return self.blocker is None


def cancel_terms(*, appointment: Appointment, by: User, now: dt.datetime) -> CancelTerms:
    order = order_of(appointment)
    blocker = cancel_blocker(appointment=appointment, by=by, now=now)
    refund = money.ZERO
    paid = money.ZERO
    if order is not None and order.paid_at is not None:
        paid = order.amount
        if blocker is None:
            refund = cancellation_refund(order=order, appointment=appointment, by=by, now=now)
    cutoff = cancellation_cutoff(appointment.schedule)
    return CancelTerms(blocker=blocker, cutoff=cutoff, late=now >= cutoff, refund=refund, paid=paid)


@dataclass(frozen=True)
class RefundSummary:
    requested: Decimal  # on its way back
    refunded: Decimal  # back on the member's account


def refund_summary(order: Order | None) -> RefundSummary | None:
    if order is None or order.paid_at is None:
        return None
    pending = (
        order.refunds.filter(status=RefundStatus.REQUESTED, stray_trade_no="").aggregate(
            total=Sum("amount")
        )["total"]
        or money.ZERO
    )
    if not pending and not order.refunded_amount:
        return None
    return RefundSummary(requested=pending, refunded=order.refunded_amount)


def checkout_url(order: Order) -> str:
    """Where the member pays ``order``: the configured gateway's cashier page.

    Raises GatewayError when the order's gateway has no web cashier here.
    """
    if order.gateway == "sandbox":
        return sandbox.checkout_url(order)
    gateway = get_gateway(order.gateway)
    pay_page = getattr(gateway, "checkout_url", None)
    if pay_page is None:
        raise GatewayError(f"gateway {order.gateway!r} has no web cashier")
    schedule = order.appointment.schedule
    subject = f"{schedule.doctor.department.name} {schedule.doctor.name} {schedule.date:%m-%d}"
    return pay_page(out_trade_no=order.out_trade_no, amount=order.amount, subject=subject)


def sandbox_trade_recorded(*, out_trade_no: str) -> bool:
    """Whether the sandbox gateway holds a payment for ``out_trade_no`` (its cashier says
    "paid" then, whatever the order's state)."""
    return SandboxTrade.objects.filter(out_trade_no=out_trade_no).exists()


# -- member pages --------------------------------------------------------------------------------


def bookable_schedule(*, pk: int) -> Schedule:
    """A session whose booking page a member may open: any but a draft, of an active doctor,
    with doctor and department; anything else is a 404."""
    schedule = appointment_selectors.bookable_schedule(pk=pk)
    if schedule is None:
        raise Http404("no such session")
    return schedule


@dataclass(frozen=True)
class BookingPreview:
    """The confirm page: whether ``member`` may book now, and what they pay."""

    availability: Availability
    payable: Decimal  # the fee after the member's level discount

    @property
    def error(self) -> errors.AppointmentError | None:
        return self.availability.blocker


def booking_preview(*, schedule: Schedule, member: Member, now: dt.datetime) -> BookingPreview:
    return BookingPreview(
        availability=schedule_availability(schedule=schedule, member=member, now=now),
        payable=money.payable(fee=schedule.fee, discount_rate=member.level.discount_rate),
    )


@dataclass(frozen=True)
class AppointmentRow:
    """One line of "My appointments"."""

    appointment: Appointment
    order: Order | None
    payable: Order | None  # the order still waiting for payment, if any


def appointment_rows(*, appointments: list[Appointment], now: dt.datetime) -> list[AppointmentRow]:
    """Lines for ``appointments`` (read with their orders, e.g. by :func:`member_appointments`)."""
    return [
        AppointmentRow(
            appointment=appointment,
            order=order_of(appointment),
            payable=payable_order(appointment, now),
        )
        for appointment in appointments
    ]


class Notice:
    """What the status area of an appointment tells the member, by name."""

    PAY = "pay"  # pay by the end of the hold
    HOLD_EXPIRED = "hold_expired"  # the time to pay ran out; the slot is being released
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    VISITED = "visited"
    CANCELLED = "cancelled"
    MISSED = "missed"


_NOTICE_OF_STATUS = {
    AppointmentStatus.PENDING_PAYMENT: Notice.HOLD_EXPIRED,  # Notice.PAY while it is payable
    AppointmentStatus.CONFIRMED: Notice.BOOKED,
    AppointmentStatus.CHECKED_IN: Notice.CHECKED_IN,
    AppointmentStatus.COMPLETED: Notice.VISITED,
    AppointmentStatus.CANCELLED: Notice.CANCELLED,
    AppointmentStatus.NO_SHOW: Notice.MISSED,
}


@dataclass(frozen=True)
class AppointmentView:
    """One of a member's appointments as their result page shows it, with what they may do."""

    appointment: Appointment
    order: Order | None
    payable: Order | None
    refunds: RefundSummary | None
    terms: CancelTerms
    notice: str  # a Notice

    @property
    def schedule(self) -> Schedule:
        return self.appointment.schedule

    @property
    def can_pay(self) -> bool:
        return self.payable is not None

    @property
    def can_cancel(self) -> bool:
        return self.terms.allowed

    @property
    def can_add_to_calendar(self) -> bool:
        return self.appointment.is_active and self.notice != Notice.VISITED

    @property
    def why_not_cancel(self) -> str:
        """Why a booked appointment cannot be cancelled online (empty when it can, or when
        it is past cancelling anyway)."""
        if self.terms.blocker is None or self.notice != Notice.BOOKED:
            return ""
        return self.terms.blocker.message


def appointment_view(*, appointment: Appointment, by: User, now: dt.datetime) -> AppointmentView:
    """``appointment`` (one of the member's, from :func:`member_appointment`) for its page."""
    order = order_of(appointment)
    payable = payable_order(appointment, now)
    notice = Notice.PAY if payable is not None else _NOTICE_OF_STATUS[appointment.status]
    return AppointmentView(
        appointment=appointment,
        order=order,
        payable=payable,
        refunds=refund_summary(order),
        terms=cancel_terms(appointment=appointment, by=by, now=now),
        notice=notice,
    )


# -- the staff console ---------------------------------------------------------------------------


def staff_appointment(*, pk: int) -> Appointment:
    """Any appointment, for the console (staff permissions decide who gets here), with its
    member, session, doctor, department and order; a 404 when there is none."""
    appointment = (
        Appointment.objects.select_related("member", "schedule__doctor__department", "order")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise Http404("no such appointment")
    return appointment


def queue_appointment(*, pk: int, user: User) -> Appointment:
    """An appointment in a queue ``user`` runs (their own as a doctor, any for clinic admins);
    any other is a 404, as if it did not exist."""
    appointment = staff_appointment(pk=pk)
    if not may_run_queue(user=user, schedule=appointment.schedule):
        raise Http404("not your patient")
    return appointment


def counter_order(*, appointment_pk: int) -> Order:
    """The order of an appointment, to be paid at the desk; a 404 when there is none."""
    order = (
        Order.objects.select_related("appointment").filter(appointment_id=appointment_pk).first()
    )
    if order is None:
        raise Http404("no order")
    return order


@dataclass(frozen=True)
class StaffAppointmentView:
    """One appointment as the desk sees it, with what this login may do."""

    appointment: Appointment
    order: Order | None
    refunds: RefundSummary | None
    cashier: str  # the sandbox cashier's link while the order waits for payment there
    actions: StaffActions
    can_take_counter_payment: bool


def staff_appointment_view(
    *, appointment: Appointment, user: User, now: dt.datetime
) -> StaffAppointmentView:
    """``appointment`` (from :func:`staff_appointment`) for the console page of ``user``."""
    order = order_of(appointment)
    payable = payable_order(appointment, now)
    return StaffAppointmentView(
        appointment=appointment,
        order=order,
        refunds=refund_summary(order),
        cashier=sandbox.checkout_url(payable)
        if payable is not None and payable.gateway == "sandbox"
        else "",
        actions=staff_actions(appointment=appointment, user=user),
        can_take_counter_payment=order is not None
        and order.status == OrderStatus.UNPAID
        and user.has_perm("billing.take_counter_payment"),
    )


def staff_schedule(*, pk: int) -> Schedule:
    """Any session (drafts too), for the console; a 404 when there is none."""
    schedule = appointment_selectors.schedule_for_staff(pk=pk)
    if schedule is None:
        raise Http404("no such session")
    return schedule


def walk_in_sessions(*, now: dt.datetime) -> QuerySet[Schedule]:
    """Today's released sessions that have not ended: where a walk-in may go."""
    return appointment_selectors.walk_in_sessions(now=now)


def staff_member(*, pk: int) -> Member:
    """Any member, for the console (permissions decide who gets here), with level and login;
    a 404 when there is none."""
    member = member_selectors.member_for_staff(pk=pk)
    if member is None:
        raise Http404("no such member")
    return member


def member_levels() -> QuerySet[MemberLevel]:
    """Every level, for staff to choose one."""
    return member_selectors.level_choices()


@dataclass(frozen=True)
class StaffMemberPage:
    """What the console's member page lists besides the member."""

    appointments: QuerySet[Appointment]  # the latest 20
    ledger: QuerySet[PointsEntry]  # the latest 20 lines
    banned: bool
    departments: QuerySet[Department]  # active ones, to book in
    sessions: list[Schedule]  # open sessions of the chosen department
    today: dt.date
    soon: dt.date  # two weeks ahead


def staff_member_page(*, member: Member, department_code: str, now: dt.datetime) -> StaffMemberPage:
    """The lists of ``member``'s console page; ``department_code`` picks the department whose
    open sessions staff may book the member into (none when empty)."""
    sessions = (
        appointment_selectors.open_sessions_of_department(code=department_code, now=now)
        if department_code
        else []
    )
    today = timezone.localdate(now)
    return StaffMemberPage(
        appointments=appointment_selectors.latest_appointments_of(member=member),
        ledger=member_selectors.latest_points(member=member),
        banned=member.is_banned(now),
        departments=appointment_selectors.active_departments(),
        sessions=sessions,
        today=today,
        soon=today + dt.timedelta(days=14),
    )
