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
    "WrongCode",
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


class WrongCode(MemberError):
    """A texted code that is wrong, used up or expired, or that nobody was sent (same answer,
    so the page tells nobody whose number is registered)."""

    code = "wrong_code"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            _("The code is wrong or has expired. Check the text or ask for a new code."),
            field="code",
        )
