"""Insured visits: the order's split settled with the patient's insurer at booking, released
when the order closes unpaid, and reversed in the same proportions when money goes back.

The member pays only the self-pay share (自付) through the payment gateway: the order's
``amount`` is that share, and its :class:`~billing.models.InsuranceClaim` holds the fund and
personal-account parts and the insurer's settlement reference. A visit whose self-pay share is
0 is paid by the insurer at once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from appointments.models import Appointment
from medbook import money
from members.insurance import insurance_card_of

from ..models import InsuranceClaim, Order
from . import get_insurer
from .base import ClaimRequest, InsuranceUnavailable, Split

__all__ = [
    "INSURER_TRADE_PREFIX",
    "claim_of",
    "claim_split",
    "refund_split",
    "release_claim",
    "reverse_claim",
    "settle_order",
    "unreversed",
]

# The "gateway transaction" of an order the insurer paid in full (no gateway involved).
INSURER_TRADE_PREFIX = "INS"


def claim_of(order: Order) -> InsuranceClaim | None:
    return InsuranceClaim.objects.filter(order=order).first()


def claim_split(claim: InsuranceClaim) -> Split:
    return Split(claim.fund, claim.personal, claim.self_pay)


def _reversed(claim: InsuranceClaim) -> Split:
    return Split(claim.reversed_fund, claim.reversed_personal, claim.reversed_self_pay)


def settle_order(
    *, order: Order, appointment: Appointment, now: dt.datetime
) -> InsuranceClaim | None:
    """In the booking's transaction: when the patient has an insurance card, settle the
    order's charge with their insurer, record the split and make the order's amount the
    self-pay share. None (and the order unchanged) when the patient is not insured."""
    card = insurance_card_of(appointment.patient) if appointment.patient_id else None
    if card is None or order.amount <= 0:
        return None
    insurer = get_insurer(card.insurer)
    if insurer is None or not insurer.in_database:
        raise InsuranceUnavailable(f"insurer {card.insurer!r} cannot settle at booking")
    request = ClaimRequest(
        out_trade_no=order.out_trade_no,
        patient_id=appointment.patient_id,
        insurance_type=card.insurance_type,
        card_number=card.card_number,
        region=card.region,
        amount=order.amount,
        level_id=appointment.member.level_id,
        department_id=appointment.schedule.doctor.department_id,
        when=now,
    )
    settled = insurer.settle(claim=request)
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
    if insurer is None or not insurer.in_database:
        raise InsuranceUnavailable(f"insurer {claim.insurer!r} cannot reverse")
    # The deductible the patient paid goes back with the visit, in the same proportion.
    before = _reversed(claim).total
    deductible_back = _deductible_restored(claim, before + shares.total) - _deductible_restored(
        claim, before
    )
    insurer.reverse(
        reference=claim.reference,
        patient_id=claim.patient_id,
        year=claim.year,
        parts=shares,
        deductible=deductible_back,
        when=now,
    )
    claim.reversed_fund += shares.fund
    claim.reversed_personal += shares.personal
    claim.reversed_self_pay += shares.self_pay
    claim.save(update_fields=["reversed_fund", "reversed_personal", "reversed_self_pay"])
    return shares


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
