"""Refusals of the members services (sign-up, phone, points, levels, staff actions)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError, Forbidden, Invalid

__all__ = [
    "Forbidden",
    "Invalid",
    "LoginCodeRequired",
    "MemberError",
    "NationalIdTaken",
    "NoLevels",
    "PhoneNotVerified",
    "PhoneTaken",
    "PointsRefused",
    "SecondFactorMissing",
    "SecondFactorSetupRequired",
    "WrongCode",
    "WrongLogin",
    "WrongSecondFactor",
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


# -- API logins (members/api): the same checks as the login pages, answered as codes ---------


class WrongLogin(MemberError):
    """Wrong number/username or password (one answer for both)."""

    code = "invalid_login"
    status = 401


class LoginCodeRequired(MemberError):
    """Past the failed-login limit: a code was texted to the account's number (members.lockout)."""

    code = "login_code_required"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _(
                "Too many failed logins for this account. For your security, enter the code we "
                "texted to its number together with your password."
            ),
            field="code",
        )


class PhoneNotVerified(MemberError):
    code = "phone_not_verified"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _("Your mobile number is not confirmed yet. Log in on the website once to confirm it.")
        )


class SecondFactorSetupRequired(MemberError):
    code = "second_factor_setup_required"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _(
                "Staff logins use the API only with two-factor authentication. Set up an "
                "authenticator app in the staff console first."
            )
        )


class SecondFactorMissing(MemberError):
    code = "second_factor_required"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _(
                "Staff logins use the API only with two-factor authentication: send the code "
                "from your authenticator app as otp."
            ),
            field="otp",
        )


class WrongSecondFactor(MemberError):
    code = "wrong_second_factor"
    status = 400

    def __init__(self) -> None:
        super().__init__(_("The authenticator code is wrong or was used already."), field="otp")
