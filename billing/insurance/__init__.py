"""Medical insurance settlement (医保结算): the insurer adapters behind one interface
(:mod:`.base`), looked up by the code on the patient's card."""

from __future__ import annotations

from django.conf import settings

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
    """The adapter of insurer ``name``; None when it is not configured here."""
    if name == "sandbox":
        return SandboxInsurer()
    if name == "provincial" and settings.MEDBOOK_INSURANCE_PROVINCIAL_URL:
        from .provincial import ProvincialInsurer

        return ProvincialInsurer(
            base_url=settings.MEDBOOK_INSURANCE_PROVINCIAL_URL,
            app_id=settings.MEDBOOK_INSURANCE_PROVINCIAL_APP_ID,
            secret=settings.MEDBOOK_INSURANCE_PROVINCIAL_SECRET,
            timeout=settings.MEDBOOK_INSURANCE_PROVINCIAL_TIMEOUT,
        )
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
