"""The refusals of real-name verification."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError, Invalid


class TooManyAttempts(DomainError):
    """Too many verification attempts by this login or for this ID number just now."""

    code = "verification_rate_limited"
    status = 429

    def default_message(self) -> str:
        return _(
            "Too many verification attempts. Please try again in an hour, or verify at the "
            "front desk with the ID card."
        )


class NotVerifiable(Invalid):
    """The document cannot be checked online (only resident ID numbers are in the register)."""

    code = "not_verifiable"

    def default_message(self) -> str:
        return _(
            "Only mainland resident ID cards can be verified online. Please bring the "
            "document to the front desk."
        )


class AlreadyVerified(DomainError):
    code = "already_verified"

    def default_message(self) -> str:
        return _("This patient's real name is verified already.")
