"""Money: amounts are ``Decimal`` CNY with two places, and every rounding happens here, by name.

* :func:`payable` — a fee at a level's price factor: half up to the cent (what a member pays).
* :func:`refund_share` — a percentage of what is left to refund: down to the cent (the clinic
  never refunds a fraction of a cent more than it keeps a rule for).
* :func:`points_for` — visit points: one per whole yuan paid times the level's multiplier, down.
* :func:`to_cents` / :func:`from_cents` — the integer cents the WeChat Pay API speaks.
* :func:`insured_share` — what medical insurance pays of an amount at a ratio: down to the cent
  (the insurer never pays a fraction of a cent more than its ratio).
* :func:`proportional_parts` — an amount shared out over parts in their proportions, to the
  cent (largest remainder): the shares add up exactly and none exceeds its part (a refund
  of an insured visit reverses each payer's part alike).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

__all__ = [
    "CENT",
    "ZERO",
    "from_cents",
    "insured_share",
    "payable",
    "points_for",
    "proportional_parts",
    "refund_share",
    "to_cents",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def payable(*, fee: Decimal, discount_rate: Decimal) -> Decimal:
    """Fee times the level's price factor, rounded half up to the cent."""
    return (fee * discount_rate).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_share(*, remaining: Decimal, percent: int) -> Decimal:
    """``percent`` of ``remaining``, rounded down to the cent."""
    return (remaining * Decimal(percent) / 100).quantize(CENT, rounding=ROUND_FLOOR)


def points_for(*, paid: Decimal, multiplier: Decimal) -> int:
    """Visit points: 1 per whole yuan paid, times the level's multiplier, rounded down."""
    return int((paid * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def to_cents(amount: Decimal) -> int:
    """An amount in whole cents (amounts carry two places, so nothing is rounded away)."""
    return int((amount / CENT).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return Decimal(int(cents)) * CENT


def insured_share(*, amount: Decimal, ratio: Decimal) -> Decimal:
    """``ratio`` (0–1) of ``amount``, rounded down to the cent."""
    return (amount * ratio).quantize(CENT, rounding=ROUND_FLOOR)


def proportional_parts(*, parts: tuple[Decimal, ...], amount: Decimal) -> tuple[Decimal, ...]:
    """``amount`` (0 ≤ amount ≤ sum of ``parts``, all non-negative, in cents) shared over
    ``parts`` in their proportions: each share is its exact proportion rounded down to the
    cent, and the cents left over go one each to the parts with the largest remainders (the
    earlier part on a tie). The shares add up to ``amount`` exactly and none exceeds its part.
    """
    cents = [to_cents(part) for part in parts]
    total, wanted = sum(cents), to_cents(amount)
    if any(c < 0 for c in cents) or not 0 <= wanted <= total:
        raise ValueError("amount must lie between 0 and the sum of non-negative parts")
    if total == 0:
        return tuple(ZERO for _ in parts)
    shares = [c * wanted // total for c in cents]
    remainders = [c * wanted % total for c in cents]
    left = wanted - sum(shares)
    order = sorted(range(len(cents)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        shares[i] += 1
    return tuple(from_cents(share) for share in shares)
