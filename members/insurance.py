"""A patient's medical insurance card (医保): adding or replacing it, and removing it.

The card number is checked for its shape (8 to 20 letters and digits: a social security
card number, an e-voucher code or a resident ID), stored encrypted with a blind index, and
belongs to one patient in the whole clinic. Every change is in the operation log; the number
is never logged. Which insurer settles a visit is billing's business (billing.insurance).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from medbook import audit
from medbook.errors import DomainError, Invalid

from .models import InsuranceCard, InsuranceType, InsurerChoice, Patient, User

_CARD_NUMBER = re.compile(r"^[A-Z0-9]{8,20}$")


class InsuranceCardTaken(DomainError):
    code = "insurance_card_taken"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _(
                "This medical insurance card is already registered for another patient. "
                "Please check the number, or ask the front desk."
            ),
            field="card_number",
        )


def normalize_card_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def validate_card_number(value: str) -> str:
    number = normalize_card_number(value)
    if not number:
        raise Invalid(_("Please enter the medical insurance card number."), field="card_number")
    if not _CARD_NUMBER.match(number):
        raise Invalid(
            _("A medical insurance card number has 8 to 20 letters and digits."),
            field="card_number",
        )
    return number


def insurance_card_of(patient: Patient) -> InsuranceCard | None:
    """The patient's card, or None; without a query when the patient was read with it
    (:func:`members.patients.bookable_patients`: the booking page and the booking itself)."""
    cache = Patient.insurance_card.related
    if cache.is_cached(patient):
        return cache.get_cached_value(patient)
    return InsuranceCard.objects.filter(patient=patient).first()


def save_insurance_card(
    *,
    patient: Patient,
    insurance_type: str,
    insurer: str,
    region: str,
    card_number: str,
    by: User,
    request: HttpRequest | None = None,
) -> InsuranceCard:
    """Add the patient's card, or replace the one on file (logged). An empty card number
    when editing keeps the number on file. Raises Invalid or InsuranceCardTaken; writes
    nothing then."""
    if insurance_type not in InsuranceType.values:
        raise Invalid(_("Please choose the type of medical insurance."), field="insurance_type")
    if insurer not in InsurerChoice.values:
        raise Invalid(_("Please choose the insurer."), field="insurer")
    region = (region or "").strip()
    if not region:
        raise Invalid(_("Please enter where the insurance is held."), field="region")
    if len(region) > InsuranceCard._meta.get_field("region").max_length:
        raise Invalid(_("The region is too long."), field="region")
    card = insurance_card_of(patient)
    if card is not None and not (card_number or "").strip():
        number = card.card_number
    else:
        number = validate_card_number(card_number)
    card = card or InsuranceCard(patient=patient)
    card.insurance_type, card.insurer, card.region = insurance_type, insurer, region
    card.card_number = number
    adding = card.pk is None
    try:
        with transaction.atomic():
            card.save()
            audit.record(
                actor=by,
                action="patient.insurance_add" if adding else "patient.insurance_change",
                target=patient,
                target_label=patient.audit_label,
                detail={"insurance_type": insurance_type, "insurer": insurer},
                request=request,
            )
    except IntegrityError as exc:
        if "insurancecard_number_unique" in str(exc):
            raise InsuranceCardTaken() from exc
        raise
    return card


def remove_insurance_card(
    *, patient: Patient, by: User, request: HttpRequest | None = None
) -> None:
    """Take the card off the patient (logged); later visits are paid in full by the member.
    Visits already settled keep their settlement."""
    with transaction.atomic():
        deleted, _rows = InsuranceCard.objects.filter(patient=patient).delete()
        if deleted:
            audit.record(
                actor=by,
                action="patient.insurance_remove",
                target=patient,
                target_label=patient.audit_label,
                request=request,
            )
