"""Refusals of the members services (sign-up, phone, points, levels, staff actions)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError, Forbidden, Invalid

__all__ = [
    "Forbidden",
    "Invalid",
    "MemberError",
    "NationalIdTaken",
    "NoLevels",
    "PhoneTaken",
    "PointsRefused",
]


class MemberError(DomainError):
    code = "member_error"


class PhoneTaken(MemberError):
    code = "phone_taken"

    def __init__(self) -> None:
        super().__init__(_("This mobile number is already registered."), field="phone")


class NationalIdTaken(MemberError):
    code = "national_id_taken"

    def __init__(self) -> None:
        super().__init__(_("This ID number is already registered."), field="national_id")


class NoLevels(MemberError):
    code = "no_levels"

    def __init__(self) -> None:
        super().__init__(_("No membership levels are set up yet."))


class PointsRefused(MemberError):
    """A points change the ledger cannot take (zero, below nothing, beyond the column)."""

    code = "points_refused"
