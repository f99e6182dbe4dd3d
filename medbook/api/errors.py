"""Every API error as one body: ``{"error": {"code", "message", "fields"}}``.

The one exception handler of the API (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]) turns each
kind of refusal into that body, with the message in the request's language:

* a service's refusal (:class:`medbook.errors.DomainError`): its own stable ``code``, message
  and status, and its ``field`` — the same refusal the web pages show, not a second rule;
* REST framework's own (bad input with a message per field, not logged in, not allowed, not
  found, too many requests with ``Retry-After``, a method or media type not served);
* Django's ``Http404`` / ``PermissionDenied`` raised by a selector or a shortcut.

Clients branch on ``code``; ``message`` is for people; ``fields`` maps a field to its messages
(empty when the error is about the request as a whole).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from ..errors import DomainError

__all__ = [
    "ApiError",
    "SecondFactorRequired",
    "TokenExpired",
    "TokenInvalid",
    "TokenReused",
    "TokenRevoked",
    "error_body",
    "exception_handler",
]


class ApiError(exceptions.APIException):
    """An API refusal with a stable code of its own (not a service's)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = _("The request is not valid.")

    def __init__(self, detail: Any = None, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail, self.default_code)
        self.fields = fields or {}


class TokenInvalid(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_invalid"
    default_detail = _("The token is not valid. Please log in again.")


class TokenExpired(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_expired"
    default_detail = _("The token has expired. Refresh it, or log in again.")


class TokenRevoked(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_revoked"
    default_detail = _(
        "This login has ended (logged out, logged out everywhere, or the password changed). "
        "Please log in again."
    )


class TokenReused(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_reused"
    default_detail = _(
        "This refresh token was used before. For your safety this login has been ended on "
        "every device that shared it; please log in again."
    )


class SecondFactorRequired(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "second_factor_required"
    default_detail = _(
        "Staff logins use the API only with two-factor authentication: log in again with the "
        "code from your authenticator app."
    )


# REST framework's own exceptions: our code for each, and its message in our catalogue (DRF's
# own messages are translated too, but not all into Simplified Chinese, nor in our words).
_DRF = {
    exceptions.NotAuthenticated: (
        "not_authenticated",
        _("Log in first: send the access token as 'Authorization: Bearer <token>'."),
    ),
    exceptions.AuthenticationFailed: ("token_invalid", TokenInvalid.default_detail),
    exceptions.PermissionDenied: ("permission_denied", _("You may not do this.")),
    exceptions.NotFound: ("not_found", _("Not found.")),
    exceptions.MethodNotAllowed: ("method_not_allowed", _("This method is not allowed here.")),
    exceptions.NotAcceptable: ("not_acceptable", _("This API answers in JSON only.")),
    exceptions.UnsupportedMediaType: (
        "unsupported_media_type",
        _("Send the request body as JSON (Content-Type: application/json)."),
    ),
    exceptions.ParseError: ("parse_error", _("The request body is not valid JSON.")),
}


def error_body(code: str, message: Any, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _field_messages(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's errors (nested dicts and lists) as ``{"field.sub": [messages]}``."""
    found: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            found.update(
                _field_messages(value, f"{prefix}.{name}" if prefix and name else prefix or name)
            )
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            found.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                found.update(_field_messages(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        found.setdefault(prefix, []).append(str(detail))
    return found


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The response for ``exc``, or None (a real bug: Django's 500)."""
    from rest_framework.views import set_rollback  # (rest_framework.views imports this module)

    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        set_rollback()
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, ApiError):
        body = error_body(exc.default_code, exc.detail, exc.fields)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        general = fields.pop("", [])
        message = general[0] if general else _("Some fields need correcting.")
        body = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("throttled", _("Too many requests. Please wait a moment and try again."))
        if exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))
    else:
        code, message = next(
            ((code, message) for kind, (code, message) in _DRF.items() if isinstance(exc, kind)),
            ("error", exc.detail),
        )
        if isinstance(exc, exceptions.PermissionDenied) and str(exc.detail) != str(
            exceptions.PermissionDenied.default_detail
        ):
            message = exc.detail  # a permission's own words (e.g. members only)
        body = error_body(code, message)
    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
