"""Money: amounts are ``Decimal`` CNY with two places, and every rounding happens here, by name.

* :func:`payable` — a fee at a level's price factor: half up to the cent (what a member pays).
* :func:`refund_share` — a percentage of what is left to refund: down to the cent (the clinic
  never refunds a fraction of a cent more than it keeps a rule for).
* :func:`points_for` — visit points: one per whole yuan paid times the level's multiplier, down.
* :func:`to_cents` / :func:`from_cents` — the integer cents the WeChat Pay API speaks.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

__all__ = ["CENT", "ZERO", "from_cents", "payable", "points_for", "refund_share", "to_cents"]

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
