"""Who is calling the API: the bearer access token, checked on every request.

Beyond the token's own checks (signature by a known ``kid``, the one allowed algorithm, ``aud``,
``iss``, expiry: :mod:`medbook.api.tokens`), the login must still hold: active, the same
``session_epoch`` (not logged out everywhere since), the same password, the token's family not
revoked (logged out, or a refresh token reused); and a staff login must have passed the second
factor. The user is read as web sessions read theirs (medbook.backends: Redis, then the database).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication
from rest_framework.request import Request

from ..backends import cached_user
from ..staff import is_staff_user
from . import tokens
from .errors import SecondFactorRequired, TokenInvalid, TokenRevoked

__all__ = ["TokenAuthentication", "needs_second_factor"]


def needs_second_factor(user: Any) -> bool:
    """Staff logins (console roles, Django admin) use the API only after TOTP."""
    return bool(user.is_staff or user.is_superuser or is_staff_user(user))


def _load(user_id: Any) -> Any:
    return get_user_model()._default_manager.filter(pk=user_id).first()


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise TokenInvalid()
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenInvalid() from exc
        token = tokens.decode(tokens.AccessToken, raw)
        try:
            user_id = int(token["sub"])
        except (TypeError, ValueError) as exc:
            raise TokenInvalid() from exc
        user = cached_user(user_id, _load)
        if user is None:
            raise TokenInvalid()
        if not tokens.still_valid(user=user, claims=token) or not tokens.family_is_live(
            token.get("fam")
        ):
            raise TokenRevoked()
        if "otp" not in token.get("amr", []) and needs_second_factor(user):
            raise SecondFactorRequired()
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
