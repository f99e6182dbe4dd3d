"""The sandbox insurer: rules from :class:`billing.models.InsurancePlan` (edited in admin) and
each patient's yearly usage in :class:`billing.models.InsuranceUsage`, in MedBook's database.

A charge splits as: first the patient pays the rest of the year's deductible (起付线)
themselves; of what is left the fund pays the ratio (most specific rule: level and
department, then department, then level, then the plan's), rounded down to the cent and never
past the year's cap; of the remainder the personal account pays its share, rounded down; the
member pays the rest. Settling locks the patient's usage row, so two visits at once never pass
the deductible or the cap together.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from medbook import money

from ..models import InsurancePlan, InsuranceRatio, InsuranceUsage
from .base import ClaimRequest, InsuranceRefused, Settled, Split


class SandboxInsurer:
    name = "sandbox"
    in_database = True

    def _plan(self, claim: ClaimRequest) -> InsurancePlan:
        plan = InsurancePlan.objects.filter(
            insurance_type=claim.insurance_type, active=True
        ).first()
        if plan is None:
            raise InsuranceRefused("no active plan for this insurance type")
        return plan

    def _ratio(self, plan: InsurancePlan, claim: ClaimRequest) -> Decimal:
        rules = {
            (rule.level_id, rule.department_id): rule.ratio
            for rule in InsuranceRatio.objects.filter(plan=plan)
        }
        for key in (
            (claim.level_id, claim.department_id),
            (None, claim.department_id),
            (claim.level_id, None),
        ):
            if key in rules:
                return rules[key]
        return plan.ratio

    def _split(
        self, plan: InsurancePlan, claim: ClaimRequest, usage: InsuranceUsage | None
    ) -> tuple[Split, Decimal]:
        deductible_used = usage.deductible_used if usage else money.ZERO
        fund_used = usage.fund_used if usage else money.ZERO
        deductible = min(claim.amount, max(money.ZERO, plan.deductible - deductible_used))
        fund = money.insured_share(amount=claim.amount - deductible, ratio=self._ratio(plan, claim))
        fund = min(fund, max(money.ZERO, plan.annual_cap - fund_used))
        personal = money.insured_share(
            amount=claim.amount - fund, ratio=plan.personal_account_ratio
        )
        return Split(fund, personal, claim.amount - fund - personal), deductible

    @staticmethod
    def _year(when: dt.datetime) -> int:
        return timezone.localdate(when).year

    def quote(self, *, claim: ClaimRequest) -> Split:
        usage = InsuranceUsage.objects.filter(
            patient_id=claim.patient_id, year=self._year(claim.when)
        ).first()
        return self._split(self._plan(claim), claim, usage)[0]

    def settle(self, *, claim: ClaimRequest) -> Settled:
        year = self._year(claim.when)
        plan = self._plan(claim)
        with transaction.atomic():
            InsuranceUsage.objects.bulk_create(
                [InsuranceUsage(patient_id=claim.patient_id, year=year)], ignore_conflicts=True
            )
            usage = InsuranceUsage.objects.select_for_update().get(
                patient_id=claim.patient_id, year=year
            )
            split, deductible = self._split(plan, claim, usage)
            InsuranceUsage.objects.filter(pk=usage.pk).update(
                deductible_used=F("deductible_used") + deductible,
                fund_used=F("fund_used") + split.fund,
            )
        return Settled(split, f"SBX{secrets.token_hex(12).upper()}", deductible)

    def reverse(
        self,
        *,
        reference: str,
        patient_id: int,
        year: int,
        parts: Split,
        deductible: Decimal,
        when: dt.datetime,
        reverse_no: str = "",
    ) -> str:
        with transaction.atomic():
            usage = InsuranceUsage.objects.select_for_update().get(patient_id=patient_id, year=year)
            usage.fund_used = max(money.ZERO, usage.fund_used - parts.fund)
            usage.deductible_used = max(money.ZERO, usage.deductible_used - deductible)
            usage.save(update_fields=["fund_used", "deductible_used"])
        return f"{reference}R{secrets.token_hex(4).upper()}"
