"""Medical insurance settlement (医保结算): the insurer adapters behind one interface
(:mod:`.base`), looked up by the code on the patient's card."""

from __future__ import annotations

from .base import (
    ClaimRequest,
    InsuranceRefused,
    InsuranceUnavailable,
    Insurer,
    Settled,
    Split,
)
from .sandbox import SandboxInsurer


def get_insurer(name: str) -> Insurer | None:
    if name == "sandbox":
        return SandboxInsurer()
    return None


__all__ = [
    "ClaimRequest",
    "InsuranceRefused",
    "InsuranceUnavailable",
    "Insurer",
    "Settled",
    "Split",
    "get_insurer",
]
