"""Authentication backends whose logins are read from Redis, not PostgreSQL, on every request.

Django loads the user of a session from the database for every request. Here the user's row
(its field values only: never a permission cache) is kept in Redis for :data:`USER_SECONDS`;
the session's checks run on it as before (the password hash, ``is_active``, and
``session_epoch`` in ``SessionPolicyMiddleware``), so a change to the row must reach the
cache: every save and delete drops it (signals, ``medbook.audit_signals``), and so do the
queryset updates of ``session_epoch`` (logging out everywhere, a lockout), which call
:func:`forget_user`. A drop leaves a marker for :data:`FORGOTTEN_SECONDS` in place of the row,
so that a request which read the old row just before the change cannot put it back (a row is
only ever added, never written over the marker), and is made again after commit.

Without Redis (or while its breaker is open) the database is read as before. A change made
while Redis cannot be reached takes effect within :data:`USER_SECONDS` at worst (the cached
row expires); a Redis that restarted holds nothing stale.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.db import router, transaction

logger = logging.getLogger(__name__)

__all__ = ["FORGOTTEN_SECONDS", "USER_SECONDS", "CachedAuthenticationBackend", "forget_user"]

USER_SECONDS = 60
FORGOTTEN_SECONDS = 5  # far longer than a request takes from reading a row to adding it
_FORGOTTEN = "forgotten"


def _cache() -> Any | None:
    """Redis, unless there is none or the shared cache's breaker says it is down."""
    if "redis" not in settings.CACHES:
        return None
    breaker = getattr(caches["default"], "breaker", None)
    if breaker is not None and not breaker.allows():
        return None
    return caches["redis"]


def _failed(exc: Exception) -> None:
    logger.warning("The login cache could not reach Redis (%s)", exc)
    breaker = getattr(caches["default"], "breaker", None)
    if breaker is not None:
        breaker.failed(exc)


def _key(user_id: object) -> str:
    return f"login:{user_id}"


def _fields(user: Any) -> dict[str, Any]:
    return {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields}


def _rebuilt(fields: dict[str, Any]) -> Any:
    model = get_user_model()
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db(router.db_for_read(model), names, [fields[n] for n in names])


def cached_user(user_id: object, load: Any) -> Any | None:
    """The user ``user_id`` from Redis, else from ``load(user_id)`` (then kept in Redis)."""
    cache = _cache()
    if cache is None:
        return load(user_id)
    try:
        found = cache.get(_key(user_id))
    except Exception as exc:
        _failed(exc)
        return load(user_id)
    if isinstance(found, dict):
        return _rebuilt(found)
    user = load(user_id)
    if user is not None and found is None:  # never over a "forgotten" marker
        try:
            cache.add(_key(user_id), _fields(user), USER_SECONDS)
        except Exception as exc:
            _failed(exc)
    return user


def _mark_forgotten(user_id: object) -> None:
    cache = _cache()
    if cache is None:
        return
    try:
        cache.set(_key(user_id), _FORGOTTEN, FORGOTTEN_SECONDS)
    except Exception as exc:
        _failed(exc)


def forget_user(user_id: object) -> None:
    """The user's row changed (or is about to): drop it from the cache now and after commit."""
    _mark_forgotten(user_id)
    transaction.on_commit(lambda: _mark_forgotten(user_id), robust=True)


class CachedModelBackend(ModelBackend):
    """Django's backend (staff log in with a username), its sessions' users read from Redis."""

    def get_user(self, user_id: Any) -> Any | None:
        user = cached_user(user_id, self._load)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _load(user_id: Any) -> Any | None:
        return get_user_model()._default_manager.filter(pk=user_id).first()


class CachedAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (members log in with their number), its users read from Redis."""

    def get_user(self, user_id: Any) -> Any | None:
        user = cached_user(user_id, CachedModelBackend._load)
        return user if user is not None and self.user_can_authenticate(user) else None
