"""The one error type of every refusal a service makes.

A :class:`DomainError` has a stable ``code`` (what the API returns and tests check), a message
written for the person using the page (``str(error)``), optionally the form ``field`` it is
about, and the HTTP ``status`` it means when it ends a request: 409 (the state of things does not
allow it), 403 (this login may not), 404 (no such thing for this login) or 400 (bad input).
Each app's ``exceptions`` module subclasses it; :mod:`medbook.refusals` turns one into a page
message or a response.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

__all__ = ["DomainError", "Forbidden", "Invalid", "NotFound"]


class DomainError(Exception):
    """A refusal: ``code`` is stable, ``message`` is fit for users, ``field`` names the input
    it is about (``None``: the request as a whole)."""

    code = "domain_error"
    status = 409

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message()
        self.field = field
        super().__init__(self.message)

    def default_message(self) -> str:
        return _("This cannot be done right now.")


class Invalid(DomainError):
    """The input breaks a rule (a missing reason, an out-of-range number)."""

    code = "invalid"
    status = 400

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> Invalid:
        """The refusal a model's ``full_clean()`` (or a validator) made, as a domain error: its
        messages in one, on its field when it names exactly one."""
        if hasattr(error, "error_dict"):
            fields = [name for name in error.error_dict if name != NON_FIELD_ERRORS]
            field = fields[0] if len(fields) == 1 and len(error.error_dict) == 1 else None
        else:
            field = None
        return cls(" ".join(error.messages), field=field)


class Forbidden(DomainError):
    """This login may not do it."""

    code = "forbidden"
    status = 403

    def default_message(self) -> str:
        return _("You may not do this.")


class NotFound(DomainError):
    """No such thing, as far as this login may know."""

    code = "not_found"
    status = 404

    def default_message(self) -> str:
        return _("Not found.")
