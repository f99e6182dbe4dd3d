"""Reads of billing for its pages: a member's appointments with their orders and what the member
may do with each (member pages), one appointment, member or session as the front desk sees it
(staff console), and the sandbox cashier's record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from appointments import exceptions as errors
from appointments import selectors as appointment_selectors
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Department, Schedule
from appointments.selectors import (
    Availability,
    StaffActions,
    appointments_for_member,
    cancel_blocker,
    cancellation_cutoff,
    not_cancellable_online,
    schedule_availability,
    staff_actions,
)
from appointments.services import may_run_queue
from medbook import money
from members import selectors as member_selectors
from members.models import Member, MemberLevel, Patient, PointsEntry, User
from members.patients import member_patients, self_patient

from . import exceptions as payment_errors
from .choices import Gateway, OrderStatus, PaymentMethod, RefundStatus
from .gateways import GatewayError, PrepayKind, get_gateway, member_gateways, sandbox
from .models import Order, SandboxTrade
from .services import EXPIRED_HOLD_REASON, cancellation_refund


def member_appointments(*, member: Member, upcoming: bool) -> QuerySet[Appointment]:
    """The member's appointments with doctor, department, patient and order in one query."""
    return appointments_for_member(member=member, upcoming=upcoming).select_related(
        "order", "patient"
    )


def member_appointment_list(
    *, member: Member, status: str = "", upcoming: bool | None = None, now: dt.datetime
) -> QuerySet[Appointment]:
    """The member's appointments for the API's list (unordered: the pager orders them), with
    doctor, department and order; only ``status`` ones, and only upcoming (or only past) ones
    when ``upcoming`` says so."""
    if upcoming is None:
        appointments = Appointment.objects.filter(member=member).select_related(
            "schedule__doctor__department"
        )
    else:
        appointments = appointments_for_member(member=member, upcoming=upcoming, now=now)
    if status:
        appointments = appointments.filter(status=status)
    pending = Sum(
        "order__refunds__amount",
        filter=Q(order__refunds__status=RefundStatus.REQUESTED, order__refunds__stray_trade_no=""),
    )
    return (
        appointments.select_related("order__insurance_claim", "patient")
        .annotate(refund_pending=Coalesce(pending, money.ZERO))
        .order_by()
    )


def member_appointment(*, member: Member, pk: int) -> Appointment:
    """One of the member's own appointments; anyone else's is a 404, so ids tell nothing."""
    appointment = (
        Appointment.objects.select_related(
            "schedule__doctor__department",
            "member__level",
            "order__insurance_claim",
            "patient",
        )
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

    @property
    def rule(self) -> str:
        """Which refund rule cancelling now applies, by name (a CancelRule)."""
        if self.blocker is not None:
            return CancelRule.NOT_CANCELLABLE
        if not self.paid:
            return CancelRule.NOTHING_PAID
        if self.refund >= self.paid:
            return CancelRule.FULL_REFUND
        if self.late:
            return CancelRule.LATE_SHARE
        return CancelRule.REMAINDER


class CancelRule:
    """The refund rule a cancellation falls under."""

    NOT_CANCELLABLE = "not_cancellable"  # cannot be cancelled online now (see the blocker)
    NOTHING_PAID = "nothing_paid"  # unpaid or free: the hold is released, nothing to refund
    FULL_REFUND = "full_refund"  # all that was paid comes back
    LATE_SHARE = "late_share"  # a late cancellation: MEDBOOK_LATE_CANCEL_REFUND_PERCENT of it
    REMAINDER = "remainder"  # what is left after earlier refunds comes back


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


def refund_summary(order: Order | None, *, pending: Decimal | None = None) -> RefundSummary | None:
    """``pending``: the refunds still on their way, when the caller read them already (a list
    annotated by :func:`member_appointment_list`)."""
    if order is None or order.paid_at is None:
        return None
    if pending is None:
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
    """Where the member pays ``order``: the configured gateway's cashier page (for WeChat Pay,
    MedBook's own page with the QR code).

    Raises GatewayError when the order's gateway has no web cashier here.
    """
    if order.gateway == Gateway.SANDBOX:
        return sandbox.checkout_url(order)
    if order.gateway == Gateway.WECHAT and get_gateway(order.gateway) is not None:
        return reverse("billing:wechat_checkout", args=[order.appointment_id])
    gateway = get_gateway(order.gateway)
    pay_page = getattr(gateway, "checkout_url", None)
    if pay_page is None:
        raise GatewayError(f"gateway {order.gateway!r} has no web cashier")
    return pay_page(
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        subject=_subject(order),
        expires_at=order.expires_at,
    )


def _subject(order: Order) -> str:
    """What the payer's app shows the payment is for: department, doctor and day."""
    schedule = order.appointment.schedule
    return f"{schedule.doctor.department.name} {schedule.doctor.name} {schedule.date:%m-%d}"


@dataclass(frozen=True)
class PaymentChoice:
    """One way to pay a member may choose on the pay step."""

    gateway: str  # a Gateway
    label: str
    hint: str
    current: bool  # the order's gateway now


_CHOICE_HINTS = {
    Gateway.ALIPAY: _lazy("Pay in the Alipay app or on Alipay's website."),
    Gateway.WECHAT: _lazy("Scan a QR code with WeChat and pay there."),
    Gateway.SANDBOX: _lazy("The demo cashier: no real money moves."),
}


def payment_choices(order: Order) -> list[PaymentChoice]:
    """The ways the member may pay ``order`` online (the clinic's gateway first); a single one
    means there is nothing to choose."""
    return [
        PaymentChoice(
            gateway=name,
            label=str(Gateway(name).label),
            hint=str(_CHOICE_HINTS[name]),
            current=name == order.gateway,
        )
        for name in member_gateways()
    ]


@dataclass(frozen=True)
class PaymentRequest:
    """What an app needs to pay an order by one method: a page to open (``url``), the order
    string its gateway SDK takes (``order_string``), or a WeChat Pay prepay order: the QR
    code's ``code_url`` (Native), or the ``prepay_id`` and the signed ``params`` the WeChat
    client is handed (JSAPI, App)."""

    order: Order
    method: str  # a PaymentMethod
    url: str = ""
    order_string: str = ""
    code_url: str = ""
    prepay_id: str = ""
    params: dict[str, str] = field(default_factory=dict)


# The gateway each method pays through, and the kind of WeChat Pay prepay order it places.
_METHOD_GATEWAY = {
    PaymentMethod.SANDBOX: Gateway.SANDBOX,
    PaymentMethod.ALIPAY_PAGE: Gateway.ALIPAY,
    PaymentMethod.ALIPAY_APP: Gateway.ALIPAY,
    PaymentMethod.WECHAT_NATIVE: Gateway.WECHAT,
    PaymentMethod.WECHAT_JSAPI: Gateway.WECHAT,
    PaymentMethod.WECHAT_APP: Gateway.WECHAT,
}
_PREPAY_KIND = {
    PaymentMethod.WECHAT_NATIVE: PrepayKind.NATIVE,
    PaymentMethod.WECHAT_JSAPI: PrepayKind.JSAPI,
    PaymentMethod.WECHAT_APP: PrepayKind.APP,
}


def method_of_gateway(method: str, gateway: str) -> bool:
    """Whether ``method`` (a PaymentMethod) pays through ``gateway``."""
    return _METHOD_GATEWAY.get(method) == gateway


_DEFAULT_METHOD = {
    Gateway.SANDBOX: PaymentMethod.SANDBOX,
    Gateway.ALIPAY: PaymentMethod.ALIPAY_PAGE,
    Gateway.WECHAT: PaymentMethod.WECHAT_NATIVE,
}


def default_method(gateway: str) -> str:
    """The web payment of ``gateway``: its cashier page (Alipay, the sandbox) or a QR code."""
    return _DEFAULT_METHOD[gateway]


def payment_request(
    *, appointment: Appointment, method: str, now: dt.datetime, openid: str = ""
) -> PaymentRequest:
    """How the member pays ``appointment`` (one of theirs) by ``method`` now; ``openid``: the
    WeChat user who pays, which wechat_jsapi needs.

    Raises a PaymentError: no openid for wechat_jsapi (400), cancelled, hold expired, already
    paid, nothing to pay (free), or the method is not offered for the order (its gateway is
    another, or not set up here, or cannot be reached now)."""
    if method == PaymentMethod.WECHAT_JSAPI and not openid:
        raise payment_errors.OpenidRequired()
    order = order_of(appointment)
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        if appointment.cancel_reason == EXPIRED_HOLD_REASON:
            raise payment_errors.HoldExpired()
        raise payment_errors.CancelledNotPayable()
    if order is None:
        raise payment_errors.NothingToPay()
    if order.paid_at is not None or order.status != OrderStatus.UNPAID:
        raise payment_errors.AlreadyPaid()
    if payable_order(appointment, now) is None:
        raise payment_errors.HoldExpired()
    if _METHOD_GATEWAY.get(method) != order.gateway:
        raise payment_errors.GatewayUnavailable()
    if method == PaymentMethod.SANDBOX:
        return PaymentRequest(order=order, method=method, url=sandbox.checkout_url(order))
    gateway = get_gateway(order.gateway)
    if gateway is None:
        raise payment_errors.GatewayUnavailable()
    terms = {"out_trade_no": order.out_trade_no, "amount": order.amount, "subject": _subject(order)}
    pay_by = {**terms, "expires_at": order.expires_at}
    try:
        if method in _PREPAY_KIND:
            prepay = gateway.prepay(
                kind=_PREPAY_KIND[method],
                out_trade_no=order.out_trade_no,
                amount=order.amount,
                description=terms["subject"],
                expires_at=order.expires_at,
                payer_openid=openid or None,
            )
            return PaymentRequest(
                order=order,
                method=method,
                code_url=prepay.code_url,
                prepay_id=prepay.prepay_id,
                params=prepay.params,
            )
        if method == PaymentMethod.ALIPAY_APP:
            return PaymentRequest(
                order=order, method=method, order_string=gateway.app_pay_order_string(**pay_by)
            )
        return PaymentRequest(order=order, method=method, url=gateway.checkout_url(**pay_by))
    except GatewayError as exc:
        raise payment_errors.GatewayUnavailable() from exc


class CheckoutState:
    """Where a WeChat Pay (Native) checkout stands, by name."""

    PAYABLE = "payable"  # the QR code is shown; the page waits for the payment
    PAID = "paid"
    EXPIRED = "expired"  # the hold ran out before the payment came
    CLOSED = "closed"  # cancelled, or nothing to pay
    UNAVAILABLE = "unavailable"  # WeChat Pay cannot be reached now
    NOT_WECHAT = "not_wechat"  # the order pays through another gateway


@dataclass(frozen=True)
class WechatCheckout:
    """The WeChat Pay checkout page of one of a member's appointments."""

    state: str  # a CheckoutState
    order: Order | None
    code_url: str = ""  # PAYABLE, unless only the state was asked for


def wechat_checkout(
    *, appointment: Appointment, now: dt.datetime, with_code: bool = True
) -> WechatCheckout:
    """Where paying ``appointment`` (one of the member's) by WeChat Pay stands now; while it is
    payable and ``with_code``, with the code_url of its Native prepay order (placed with WeChat
    Pay: the same order every time for the same terms). ``with_code=False`` for the page's
    polls, which ask only whether it was paid."""
    order = order_of(appointment)
    if order is None:
        return WechatCheckout(state=CheckoutState.CLOSED, order=None)
    if order.gateway != Gateway.WECHAT:
        return WechatCheckout(state=CheckoutState.NOT_WECHAT, order=order)
    if order.paid_at is not None:
        return WechatCheckout(state=CheckoutState.PAID, order=order)
    if payable_order(appointment, now) is None:
        expired = appointment.status == AppointmentStatus.PENDING_PAYMENT or (
            appointment.cancel_reason == EXPIRED_HOLD_REASON
        )
        state = CheckoutState.EXPIRED if expired else CheckoutState.CLOSED
        return WechatCheckout(state=state, order=order)
    if not with_code:
        return WechatCheckout(state=CheckoutState.PAYABLE, order=order)
    try:
        payment = payment_request(
            appointment=appointment, method=PaymentMethod.WECHAT_NATIVE, now=now
        )
    except payment_errors.GatewayUnavailable:
        return WechatCheckout(state=CheckoutState.UNAVAILABLE, order=order)
    return WechatCheckout(state=CheckoutState.PAYABLE, order=order, code_url=payment.code_url)


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
    # Booked now, the visit could not be cancelled online: the session starts within the
    # cancellation cutoff and the member's level may not cancel late (the page asks for a tick).
    late: bool = False

    @property
    def error(self) -> errors.AppointmentError | None:
        return self.availability.blocker


def booking_preview(
    *, schedule: Schedule, member: Member, now: dt.datetime, patient: Patient | None = None
) -> BookingPreview:
    """What the confirm page shows for booking ``schedule`` for ``patient`` (the holder when
    None): whether it can be booked and why not, the amount, whether it could be cancelled."""
    return BookingPreview(
        availability=schedule_availability(
            schedule=schedule, member=member, now=now, patient=patient
        ),
        payable=money.payable(fee=schedule.fee, discount_rate=member.level.discount_rate),
        late=not_cancellable_online(schedule=schedule, member=member, now=now),
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
        Appointment.objects.select_related(
            "member", "patient", "schedule__doctor__department", "order"
        )
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


def unpaid_desk_holds(*, now: dt.datetime) -> QuerySet[Order]:
    """The front desk's bookings (by phone or at the counter, walk-ins too) still waiting for
    their money, today's and upcoming, soonest deadline first: the desk's list of holds to
    collect before they expire. Orders past their deadline are left to the expiry job."""
    return (
        Order.objects.select_related(
            "appointment__schedule__doctor__department",
            "appointment__member",
            "appointment__patient",
        )
        .filter(
            status=OrderStatus.UNPAID,
            expires_at__gt=now,
            appointment__status=AppointmentStatus.PENDING_PAYMENT,
            appointment__channel__in=[Channel.FRONT_DESK, Channel.WALK_IN],
            appointment__schedule__date__gte=timezone.localdate(now),
        )
        .order_by("expires_at", "pk")
    )


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
    pay_by: dt.datetime | None  # the hold's deadline while the order waits for payment


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
        and order.expires_at > now
        and user.has_perm("billing.take_counter_payment"),
        pay_by=payable.expires_at if payable is not None else None,
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

    appointments: list[Appointment]  # the latest 20, with their patients
    patients: list[Patient]  # the account's patients (就诊人), the holder first
    ledger: QuerySet[PointsEntry]  # the latest 20 lines
    banned: bool
    departments: QuerySet[Department]  # active ones, to book in
    sessions: list[Schedule]  # open sessions of the chosen department
    today: dt.date
    soon: dt.date  # two weeks ahead


def prefetch_patients(appointments: Iterable[Appointment]) -> list[Appointment]:
    """``appointments`` as a list, their patients (就诊人) loaded in one query."""
    items = list(appointments)
    prefetch_related_objects(items, "patient")
    return items


def _patients_of(member: Member) -> list[Patient]:
    self_patient(member=member)  # an account from before patients gets its holder
    return list(member_patients(member=member))


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
        # with who each is for (就诊人), loaded in one more query
        appointments=prefetch_patients(appointment_selectors.latest_appointments_of(member=member)),
        patients=_patients_of(member),
        ledger=member_selectors.latest_points(member=member),
        banned=member.is_banned(now),
        departments=appointment_selectors.active_departments(),
        sessions=sessions,
        today=today,
        soon=today + dt.timedelta(days=14),
    )
