"""The insurer interface (医保结算): an insurer quotes how a visit's charge splits between its
fund (统筹支付), the patient's personal account (个人账户) and the member (自付), settles it
(the split is then the insurer's promise) and reverses part of a settlement when money goes
back. Every adapter — the sandbox with its rules in admin, the provincial mobile-payment
protocol — answers with the same :class:`Split`, whose parts always add up to the charge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from appointments.exceptions import AppointmentError
from medbook import money

# The "gateway transaction" of an order the insurer paid in full (no gateway involved).
INSURER_TRADE_PREFIX = "INS"


class InsuranceUnavailable(AppointmentError):
    """The insurer could not be asked (down, too slow, or it answered nonsense)."""

    code = "insurance_unavailable"
    status = 503

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            _(
                "The medical insurance service cannot be reached right now, so nothing was "
                "booked. Please try again in a few minutes."
            )
        )
        self.detail = detail


class InsuranceRefused(AppointmentError):
    """The insurer refused to settle (card not valid, not insured for this visit)."""

    code = "insurance_refused"
    status = 409

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            _(
                "The medical insurance did not accept this visit, so nothing was booked. "
                "Please check the card on the patient's page, or remove it to pay in full."
            )
        )
        self.detail = detail


class InsuredVisitNotMovable(AppointmentError):
    """A visit settled with medical insurance is not moved: its settlement names the session."""

    code = "insured_visit_not_movable"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _(
                "A visit settled with medical insurance cannot be moved. Please cancel it "
                "(every part is given back) and book the other session."
            )
        )


@dataclass(frozen=True)
class Split:
    """A charge split between payers; the parts are non-negative cents adding up to ``total``."""

    fund: Decimal
    personal: Decimal
    self_pay: Decimal

    def __post_init__(self) -> None:
        for part in (self.fund, self.personal, self.self_pay):
            if part < 0 or part != part.quantize(money.CENT):
                raise ValueError(f"a split's parts are non-negative cents, not {part}")

    @property
    def total(self) -> Decimal:
        return self.fund + self.personal + self.self_pay

    @property
    def parts(self) -> tuple[Decimal, Decimal, Decimal]:
        return (self.fund, self.personal, self.self_pay)

    def share(self, amount: Decimal) -> Split:
        """``amount`` of this split taken in the same proportions (a partial reversal)."""
        return Split(*money.proportional_parts(parts=self.parts, amount=amount))

    def __sub__(self, other: Split) -> Split:
        return Split(
            self.fund - other.fund, self.personal - other.personal, self.self_pay - other.self_pay
        )


@dataclass(frozen=True)
class ClaimRequest:
    """What an insurer is asked to settle: one visit's charge for one insured patient."""

    out_trade_no: str
    patient_id: int
    insurance_type: str
    card_number: str
    region: str
    amount: Decimal
    level_id: int | None
    department_id: int
    when: dt.datetime


@dataclass(frozen=True)
class Settled:
    split: Split
    reference: str
    deductible_applied: Decimal = money.ZERO


class Insurer(Protocol):
    """An insurer adapter."""

    name: str
    # Whether settle/reverse may run inside the caller's database transaction (the sandbox
    # keeps its books in MedBook's database); a remote insurer is asked before it, never in it.
    in_database: bool

    def quote(self, *, claim: ClaimRequest) -> Split: ...

    def settle(self, *, claim: ClaimRequest) -> Settled: ...

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
    ) -> str: ...
