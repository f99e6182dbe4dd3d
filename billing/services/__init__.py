"""Writes of billing: payments, refunds and cancellations (payments.py), the clinic day's flows
that move money (clinic.py: suspension, walk-ins, payment at the counter)."""

from .clinic import *  # noqa: F403
from .payments import *  # noqa: F403
