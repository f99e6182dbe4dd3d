"""API logins as JSON Web Tokens: a 10-minute access token and a rotating refresh token.

Built on djangorestframework-simplejwt's token classes, with what it does not do itself:

* **keys with ids** (``kid``): MEDBOOK_API_JWT_KEYS lists every key that verifies, one of them
  signs; a token names its key in its header, so keys rotate without logging anybody out;
* **one algorithm** (MEDBOOK_API_JWT_ALGORITHM, HMAC-SHA2): a token whose header names any
  other — ``none`` included — is refused before its signature is looked at; ``aud``, ``iss``,
  ``exp``, ``iat``, ``jti`` and ``sub`` are required and checked;
* **families with reuse detection**: each login is an :class:`~medbook.models.ApiTokenFamily`
  holding the id (``jti``) of its one good refresh token; a refresh token is good once
  (rotation); one presented again after it was rotated — a genuine token of the family whose
  id is no longer the current one — means a copy exists somewhere, and the whole family is
  revoked (the thief's and the owner's tokens);
* **the web's ways to end sessions end API logins too**: tokens carry the login's
  ``session_epoch`` (raised by "log out everywhere", a lockout reset) and a fingerprint of its
  password hash (a password change), checked on every request (:mod:`medbook.api.authentication`)
  and at every refresh.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt import tokens as simplejwt
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import (
    ExpiredTokenError,
    TokenBackendError,
    TokenBackendExpiredToken,
    TokenError,
)

from ..models import ApiTokenFamily, TokenRevocation
from .errors import TokenExpired, TokenInvalid, TokenReused, TokenRevoked

__all__ = [
    "AccessToken",
    "RefreshToken",
    "TokenPair",
    "issue_tokens",
    "key_ring",
    "password_fingerprint",
    "revoke_family",
    "rotate_refresh_token",
]

# RFC 7518 3.2: an HMAC key at least as long as the hash.
MIN_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
REQUIRED_CLAIMS = ["exp", "iat", "jti", "aud", "iss", "sub", "token_type"]


def key_ring() -> tuple[str, dict[str, bytes]]:
    """(the signing key's id, every verifying key by id) from MEDBOOK_API_JWT_KEYS."""
    raw = settings.MEDBOOK_API_JWT_KEYS.strip()
    if not raw:
        derived = hmac.new(
            settings.SECRET_KEY.encode(), b"medbook.api.jwt", hashlib.sha512
        ).digest()
        return "k0", {"k0": derived}
    keys: dict[str, bytes] = {}
    least = MIN_KEY_BYTES[settings.MEDBOOK_API_JWT_ALGORITHM]
    for item in raw.split(","):
        kid, sep, encoded = item.strip().partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"MEDBOOK_API_JWT_KEYS: key {kid!r} is not base64.") from exc
        if not sep or not kid or len(key) < least:
            raise ImproperlyConfigured(
                "MEDBOOK_API_JWT_KEYS must be kid:base64key pairs, comma separated, each key at "
                f"least {least} bytes for {settings.MEDBOOK_API_JWT_ALGORITHM}."
            )
        keys[kid] = key
    signing = settings.MEDBOOK_API_JWT_SIGNING_KID or next(iter(keys))
    if signing not in keys:
        raise ImproperlyConfigured(
            f"MEDBOOK_API_JWT_SIGNING_KID={signing!r} is not among MEDBOOK_API_JWT_KEYS."
        )
    return signing, keys


class KeyRingBackend(TokenBackend):
    """simplejwt's backend with several keys by ``kid`` and exactly one accepted algorithm."""

    def __init__(self) -> None:
        super().__init__(
            settings.MEDBOOK_API_JWT_ALGORITHM,
            audience=settings.MEDBOOK_API_JWT_AUDIENCE,
            issuer=settings.MEDBOOK_API_JWT_ISSUER,
        )

    def encode(self, payload: dict[str, Any]) -> str:
        kid, keys = key_ring()
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return jwt.encode(claims, keys[kid], algorithm=self.algorithm, headers={"kid": kid})

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        """The claims of ``token``, or TokenBackendError: the header's ``alg`` must be the one
        allowed and its ``kid`` a known key before the signature is even checked."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("malformed") from exc
        if header.get("alg") != self.algorithm:
            raise TokenBackendError("algorithm not allowed")
        _signing, keys = key_ring()
        key = keys.get(str(header.get("kid")))
        if key is None:
            raise TokenBackendError("unknown key")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS, "verify_signature": verify},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("invalid") from exc


class _KeyRingToken:
    def get_token_backend(self) -> TokenBackend:
        return KeyRingBackend()


class AccessToken(_KeyRingToken, simplejwt.AccessToken):
    @property
    def lifetime(self) -> dt.timedelta:  # type: ignore[override]
        return dt.timedelta(minutes=settings.MEDBOOK_API_ACCESS_MINUTES)


class RefreshToken(_KeyRingToken, simplejwt.Token):
    token_type = "refresh"  # noqa: S105  (a claim's value, not a password)

    @property
    def lifetime(self) -> dt.timedelta:  # type: ignore[override]
        return dt.timedelta(days=settings.MEDBOOK_API_REFRESH_DAYS)


def password_fingerprint(user: Any) -> str:
    """A keyed digest of the login's password hash: a new password changes it, so tokens
    issued before a password change stop working (as web sessions do)."""
    return salted_hmac("medbook.api.password", user.password, algorithm="sha256").hexdigest()[:16]


def decode(token_class: type[simplejwt.Token], raw: str) -> simplejwt.Token:
    """``raw`` as a checked token of ``token_class``, or the API error saying why not."""
    try:
        return token_class(raw)  # type: ignore[arg-type]
    except ExpiredTokenError as exc:
        raise TokenExpired() from exc
    except TokenError as exc:
        raise TokenInvalid() from exc


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime
    family: ApiTokenFamily


def _pair(*, family: ApiTokenFamily, user: Any, now: dt.datetime) -> TokenPair:
    """A new access and refresh token of ``family``; the refresh token becomes its current one
    (the caller saves the family)."""
    claims = {
        "sub": str(user.pk),
        "fam": str(family.id),
        "ep": user.session_epoch,
        "pw": password_fingerprint(user),
        "amr": ["pwd", "otp"] if family.second_factor else ["pwd"],
    }
    access, refresh = AccessToken(), RefreshToken()
    for token in (access, refresh):
        token.set_exp(from_time=now)
        token.set_iat(at_time=now)
        for name, value in claims.items():
            token[name] = value
    family.current_jti = refresh["jti"]
    family.expires_at = dt.datetime.fromtimestamp(refresh["exp"], tz=dt.UTC)
    return TokenPair(
        access=str(access),
        refresh=str(refresh),
        access_expires_at=dt.datetime.fromtimestamp(access["exp"], tz=dt.UTC),
        refresh_expires_at=family.expires_at,
        family=family,
    )


@transaction.atomic
def issue_tokens(*, user: Any, second_factor: bool, now: dt.datetime | None = None) -> TokenPair:
    """A new API login of ``user`` (checked by the caller): a family and its first pair."""
    now = now or timezone.now()
    family = ApiTokenFamily(id=uuid.uuid4(), user=user, created_at=now, second_factor=second_factor)
    pair = _pair(family=family, user=user, now=now)
    family.save(force_insert=True)
    return pair


def still_valid(*, user: Any, claims: Any) -> bool:
    """The login neither logged out everywhere nor changed its password since ``claims``."""
    return (
        user.is_active
        and claims.get("ep") == user.session_epoch
        and hmac.compare_digest(str(claims.get("pw", "")), password_fingerprint(user))
    )


def rotate_refresh_token(*, raw: str, now: dt.datetime | None = None) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is used up.

    Raises TokenReused (after revoking the family, which is committed) when the token was
    rotated before, TokenRevoked when its family was revoked or its login logged out everywhere
    or changed its password since, TokenInvalid/TokenExpired for a bad token."""
    now = now or timezone.now()
    token = decode(RefreshToken, raw)
    refusal = None
    with transaction.atomic():
        family = (
            ApiTokenFamily.objects.select_for_update()
            .filter(pk=_uuid(token.get("fam")), user_id=_int(token.get("sub")))
            .first()
        )
        if family is None:
            raise TokenInvalid()
        if family.revoked_at is not None:
            raise TokenRevoked()
        user = get_user_model().objects.get(pk=family.user_id)
        if token["jti"] != family.current_jti:
            # Signed by us for this family, yet not its current token: rotated before.
            _revoke(family, TokenRevocation.REUSE, now)
            refusal = TokenReused()
        elif not still_valid(user=user, claims=token):
            _revoke(family, TokenRevocation.EPOCH, now)
            refusal = TokenRevoked()
        else:
            pair = _pair(family=family, user=user, now=now)
            family.refreshed_at = now
            family.save(update_fields=["current_jti", "expires_at", "refreshed_at"])
            return pair
    raise refusal


def _revoke(family: ApiTokenFamily, reason: str, now: dt.datetime) -> None:
    family.revoked_at = now
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])


def revoke_family(*, family_id: Any, reason: str, now: dt.datetime | None = None) -> bool:
    """End an API login (its refresh and access tokens); False when it had ended already."""
    return bool(
        ApiTokenFamily.objects.filter(pk=_uuid(family_id), revoked_at__isnull=True).update(
            revoked_at=now or timezone.now(), revoked_reason=reason
        )
    )


def family_is_live(family_id: Any) -> bool:
    return ApiTokenFamily.objects.filter(pk=_uuid(family_id), revoked_at__isnull=True).exists()


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# How long an ended API login (expired or revoked) is kept before the purge job deletes it.
ENDED_LOGINS_KEPT = dt.timedelta(days=30)


def purge_ended_logins(*, now: dt.datetime | None = None) -> int:
    """Delete API logins that ended (their refresh token expired, or they were revoked) more
    than ``ENDED_LOGINS_KEPT`` ago: no token of theirs can be used any more, so reuse detection
    no longer needs them. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - ENDED_LOGINS_KEPT
    ended = ApiTokenFamily.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
    deleted, _ = ended.delete()
    return deleted
