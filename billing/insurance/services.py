"""Insured visits: the order's split settled with the patient's insurer at booking, released
when the order closes unpaid, and reversed in the same proportions when money goes back.

The member pays only the self-pay share (自付) through the payment gateway: the order's
``amount`` is that share, and its :class:`~billing.models.InsuranceClaim` holds the fund and
personal-account parts and the insurer's settlement reference. A visit whose self-pay share is
0 is paid by the insurer at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Schedule
from medbook import money, outbox
from members.insurance import insurance_card_of
from members.models import InsuranceCard, Member, Patient
from members.patients import self_patient

from .. import hooks, notices
from ..choices import OrderStatus
from ..models import InsuranceClaim, Order
from . import get_insurer
from .base import (
    INSURER_TRADE_PREFIX,
    ClaimRequest,
    InsuranceRefused,
    InsuranceUnavailable,
    Settled,
    Split,
)

logger = logging.getLogger(__name__)

REVERSE_TASK = "billing.tasks.reverse_insurance"

__all__ = [
    "INSURER_TRADE_PREFIX",
    "REVERSE_TASK",
    "PreSettled",
    "carry_out_reversal",
    "claim_of",
    "claim_split",
    "pay_by_insurer",
    "presettle",
    "refund_split",
    "release_claim",
    "reverse_claim",
    "selected_claim",
    "settle_order",
    "undo_presettle",
    "unreversed",
]


def claim_of(order: Order) -> InsuranceClaim | None:
    """``order``'s claim as the database has it now (read afresh: for services)."""
    return InsuranceClaim.objects.filter(order=order).first()


def selected_claim(order: Order | None) -> InsuranceClaim | None:
    """``order``'s claim through the relation, for pages and the API: no query when the caller
    read it with the order (``select_related("order__insurance_claim")``)."""
    if order is None:
        return None
    try:
        return order.insurance_claim
    except InsuranceClaim.DoesNotExist:
        return None


def claim_split(claim: InsuranceClaim) -> Split:
    return Split(claim.fund, claim.personal, claim.self_pay)


def _reversed(claim: InsuranceClaim) -> Split:
    return Split(claim.reversed_fund, claim.reversed_personal, claim.reversed_self_pay)


@dataclass(frozen=True)
class PreSettled:
    """A remote insurer's settlement made before the booking's transaction (the network is
    never called inside one): the order is opened with its ``out_trade_no``."""

    insurer: str
    claim: ClaimRequest
    settled: Settled


def _claim_request(
    *,
    out_trade_no: str,
    patient: Patient,
    card: InsuranceCard,
    amount: Decimal,
    level_id: int | None,
    department_id: int,
    now: dt.datetime,
) -> ClaimRequest:
    return ClaimRequest(
        out_trade_no=out_trade_no,
        patient_id=patient.pk,
        insurance_type=card.insurance_type,
        card_number=card.card_number,
        region=card.region,
        amount=amount,
        level_id=level_id,
        department_id=department_id,
        when=now,
    )


def presettle(
    *,
    member: Member,
    schedule: Schedule,
    patient: Patient | None,
    out_trade_no: str,
    now: dt.datetime,
) -> PreSettled | None:
    """Before a booking's transaction: settle with the patient's insurer when it is a remote
    one (None for the sandbox, which settles inside the transaction, and for the uninsured).
    Raises InsuranceUnavailable or InsuranceRefused: then nothing is booked."""
    if not settings.MEDBOOK_INSURANCE_PROVINCIAL_URL:
        return None  # no remote insurer here: nothing to ask before the transaction
    patient = patient or self_patient(member=member)
    card = insurance_card_of(patient)
    if card is None or schedule.fee <= 0:
        return None
    insurer = get_insurer(card.insurer)
    if insurer is None:
        raise InsuranceUnavailable(f"insurer {card.insurer!r} is not configured")
    if insurer.in_database:
        return None
    amount = money.payable(fee=schedule.fee, discount_rate=member.level.discount_rate)
    claim = _claim_request(
        out_trade_no=out_trade_no,
        patient=patient,
        card=card,
        amount=amount,
        level_id=member.level_id,
        department_id=schedule.doctor.department_id,
        now=now,
    )
    return PreSettled(card.insurer, claim, insurer.settle(claim=claim))


def undo_presettle(presettled: PreSettled, *, now: dt.datetime) -> None:
    """The booking a remote settlement was made for failed: give it all back. A failure here
    is logged for staff (the insurer's own reconciliation finds the settlement unmatched)."""
    insurer = get_insurer(presettled.insurer)
    try:
        if insurer is None:
            raise InsuranceUnavailable("insurer no longer configured")
        insurer.reverse(
            reference=presettled.settled.reference,
            patient_id=presettled.claim.patient_id,
            year=timezone.localdate(now).year,
            parts=presettled.settled.split,
            deductible=presettled.settled.deductible_applied,
            when=now,
            reverse_no=f"{presettled.settled.reference}-X",
        )
    except (InsuranceUnavailable, InsuranceRefused):
        logger.exception("could not reverse settlement %s", presettled.settled.reference)


def settle_order(
    *,
    order: Order,
    appointment: Appointment,
    now: dt.datetime,
    presettled: PreSettled | None = None,
) -> InsuranceClaim | None:
    """In the booking's transaction: when the patient has an insurance card, settle the
    order's charge with their insurer (or take the remote insurer's settlement made before
    the transaction), record the split and make the order's amount the self-pay share. None
    (and the order unchanged) when the patient is not insured."""
    card = insurance_card_of(appointment.patient) if appointment.patient_id else None
    if card is None or order.amount <= 0:
        return None
    insurer = get_insurer(card.insurer)
    if insurer is None:
        raise InsuranceUnavailable(f"insurer {card.insurer!r} is not configured")
    request = _claim_request(
        out_trade_no=order.out_trade_no,
        patient=appointment.patient,
        card=card,
        amount=order.amount,
        level_id=appointment.member.level_id,
        department_id=appointment.schedule.doctor.department_id,
        now=now,
    )
    if insurer.in_database:
        settled = insurer.settle(claim=request)
    elif (
        presettled is not None
        and presettled.insurer == card.insurer
        and presettled.claim.out_trade_no == order.out_trade_no
        and presettled.claim.amount == order.amount
    ):
        settled = presettled.settled
    else:
        raise InsuranceUnavailable("the remote settlement does not fit the order")
    if settled.split.total != order.amount:
        raise InsuranceUnavailable("the insurer's split does not add up to the charge")
    claim = InsuranceClaim.objects.create(
        order=order,
        insurer=card.insurer,
        patient_id=appointment.patient_id,
        year=timezone.localdate(now).year,
        total=order.amount,
        fund=settled.split.fund,
        personal=settled.split.personal,
        self_pay=settled.split.self_pay,
        deductible_applied=settled.deductible_applied,
        reference=settled.reference,
        settled_at=now,
    )
    order.amount = settled.split.self_pay
    order.save(update_fields=["amount"])
    return claim


def _deductible_restored(claim: InsuranceClaim, reversed_total: Decimal) -> Decimal:
    """How much of the deductible the visit applied is back once ``reversed_total`` of its
    charge is (rounded to the nearest cent: never down as more is reversed, all of it at the
    end)."""
    return money.proportional_parts(
        parts=(claim.deductible_applied, claim.total - claim.deductible_applied),
        amount=reversed_total,
    )[0]


def reverse_claim(*, order: Order, amount: Decimal, now: dt.datetime) -> Split:
    """Give back ``amount`` of the insured visit's charge (the order locked by the caller):
    shared over the parts not yet given back in their proportions, the insurer's parts
    reversed with the insurer. Returns the shares; the self-pay share is for the caller to
    refund through the gateway. ``amount`` is capped at what is left."""
    claim = InsuranceClaim.objects.select_for_update().filter(order=order).first()
    if claim is None:
        return Split(money.ZERO, money.ZERO, amount)
    left = claim_split(claim) - _reversed(claim)
    shares = left.share(min(amount, left.total))
    if shares.total == 0:
        return shares
    insurer = get_insurer(claim.insurer)
    if insurer is None:
        raise InsuranceUnavailable(f"insurer {claim.insurer!r} is not configured")
    # The deductible the patient paid goes back with the visit, in the same proportion.
    before = _reversed(claim).total
    deductible_back = _deductible_restored(claim, before + shares.total) - _deductible_restored(
        claim, before
    )
    reverse_no = f"{claim.reference}-{claim.reversed_fund + claim.reversed_personal}"[:64]
    if insurer.in_database:
        insurer.reverse(
            reference=claim.reference,
            patient_id=claim.patient_id,
            year=claim.year,
            parts=shares,
            deductible=deductible_back,
            when=now,
            reverse_no=reverse_no,
        )
    elif shares.fund or shares.personal:
        # A remote insurer is called after commit, at least once, by the job (the reverse
        # number makes a repeat a no-op at the insurer).
        outbox.enqueue(REVERSE_TASK, claim.pk, str(shares.fund), str(shares.personal), reverse_no)
    claim.reversed_fund += shares.fund
    claim.reversed_personal += shares.personal
    claim.reversed_self_pay += shares.self_pay
    claim.save(update_fields=["reversed_fund", "reversed_personal", "reversed_self_pay"])
    return shares


def carry_out_reversal(*, claim_id: int, fund: str, personal: str, reverse_no: str) -> str:
    """The job: reverse part of a remote insurer's settlement (outside any transaction)."""
    claim = InsuranceClaim.objects.get(pk=claim_id)
    insurer = get_insurer(claim.insurer)
    if insurer is None:
        raise InsuranceUnavailable(f"insurer {claim.insurer!r} is not configured")
    return insurer.reverse(
        reference=claim.reference,
        patient_id=claim.patient_id,
        year=claim.year,
        parts=Split(Decimal(fund), Decimal(personal), money.ZERO),
        deductible=money.ZERO,
        when=timezone.now(),
        reverse_no=reverse_no,
    )


def release_claim(*, order: Order, now: dt.datetime) -> None:
    """An insured order closed unpaid: the insurer's parts go back in full (nothing was paid
    through the gateway, so no refund)."""
    claim = InsuranceClaim.objects.select_for_update().filter(order=order).first()
    if claim is None:
        return
    left = claim_split(claim) - _reversed(claim)
    if left.total:
        reverse_claim(order=order, amount=left.total, now=now)


def unreversed(claim: InsuranceClaim) -> Split:
    """The parts of the claim not given back yet."""
    return claim_split(claim) - _reversed(claim)


def refund_split(*, claim: InsuranceClaim, amount: Decimal) -> Split:
    """How giving back ``amount`` of the charge would split (nothing written)."""
    left = unreversed(claim)
    return left.share(min(amount, left.total))


def pay_by_insurer(*, appointment: Appointment, now: dt.datetime) -> bool:
    """In the booking's transaction: an insured visit with nothing left for the member to pay
    is paid by the insurer at once, its appointment confirmed (no gateway involved; the
    order's transaction is the insurer's settlement). False when there is something to pay."""
    if appointment.status != AppointmentStatus.PENDING_PAYMENT:
        return False  # free: no order
    opened = Appointment.order.related.get_cached_value(appointment, default=None)
    if opened is not None and (opened.amount != 0 or opened.status != OrderStatus.UNPAID):
        return False  # the order this booking just opened (in this transaction) wants money
    order = (
        Order.objects.select_for_update()
        .filter(appointment=appointment, status=OrderStatus.UNPAID, amount=0)
        .first()
    )
    claim = claim_of(order) if order is not None else None
    if claim is None:
        return False
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.gateway_trade_no = f"{INSURER_TRADE_PREFIX}{claim.reference}"
    order.save(update_fields=["status", "paid_at", "gateway_trade_no"])
    confirmed = appointment_services.confirm_appointment(appointment=order.appointment, now=now)
    notices.paid(confirmed, order)
    hooks.payment_succeeded(order, now=now)
    return True


def booking_quote(
    *, member: Member, schedule: Schedule, patient: Patient, now: dt.datetime
) -> Split | None:
    """What booking ``schedule`` for ``patient`` would split into, for the booking page: the
    sandbox insurer's quote (no network on a page view: a remote insurer's split is known at
    booking). None when the patient is not insured, the session is free, or it cannot say."""
    card = insurance_card_of(patient)
    if card is None or schedule.fee <= 0:
        return None
    insurer = get_insurer(card.insurer)
    if insurer is None or not insurer.in_database:
        return None
    amount = money.payable(fee=schedule.fee, discount_rate=member.level.discount_rate)
    request = _claim_request(
        out_trade_no="",
        patient=patient,
        card=card,
        amount=amount,
        level_id=member.level_id,
        department_id=schedule.doctor.department_id,
        now=now,
    )
    try:
        return insurer.quote(claim=request)
    except (InsuranceRefused, InsuranceUnavailable):
        return None
