"""Insured patients for the insurance tests: a plan of the sandbox insurer and a card."""

from __future__ import annotations

from decimal import Decimal

from billing.models import InsurancePlan
from members.insurance import save_insurance_card
from members.models import InsuranceType
from members.patients import self_patient


def plan(
    *,
    ratio: str = "0.70",
    deductible: str = "0.00",
    cap: str = "10000.00",
    personal: str = "0.50",
    insurance_type: str = InsuranceType.EMPLOYEE,
) -> InsurancePlan:
    return InsurancePlan.objects.create(
        insurance_type=insurance_type,
        ratio=Decimal(ratio),
        deductible=Decimal(deductible),
        annual_cap=Decimal(cap),
        personal_account_ratio=Decimal(personal),
    )


def insure(member, *, patient=None, number: str = "", insurance_type=InsuranceType.EMPLOYEE):
    """Give the patient (the holder by default) a card with the sandbox insurer."""
    patient = patient or self_patient(member=member)
    save_insurance_card(
        patient=patient,
        insurance_type=insurance_type,
        insurer="sandbox",
        region="北京市",
        card_number=number or f"BJ{patient.pk:010d}",
        by=member.user,
    )
    return patient
