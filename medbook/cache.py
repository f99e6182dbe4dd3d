"""The shared cache, kept working when Redis is not: a circuit breaker in front of Redis with the
database behind it.

Every call goes to Redis while it answers. The first call that fails (refused, reset, timed
out) opens the breaker: for ``REDIS_BREAKER_SECONDS`` (10) every call of this process goes
straight to the database table ``medbook_cacheentry`` instead of waiting for Redis's timeout
again, and one log line says so. After that one call tries Redis again; when it answers the
breaker closes (one more log line). Counters stay atomic in the database (one ``UPDATE …
RETURNING``), so the booking and login limits keep holding across processes during a Redis
outage, and logins keep working; what was cached in Redis is simply not there while it is down
(hints, codes), which costs a database query or a new code, never a wrong answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection, transaction
from django.utils import timezone

from .breaker import CircuitBreaker

logger = logging.getLogger("medbook.cache")


class DatabaseCache(BaseCache):
    """A cache in the ``medbook_cacheentry`` table whose counters are incremented in SQL."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _model():
        from .models import CacheEntry

        return CacheEntry

    def _expiry(self, timeout: Any) -> dt.datetime | None:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return None
        return timezone.now() + dt.timedelta(seconds=seconds)

    @staticmethod
    def _row(value: Any) -> dict[str, Any]:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"number": value, "value": None}
        return {"number": None, "value": pickle.dumps(value, pickle.HIGHEST_PROTOCOL)}

    @staticmethod
    def _live() -> Any:
        from django.db.models import Q

        return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())

    # -- the cache API -------------------------------------------------------------------------

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        row = self._model().objects.filter(self._live(), key=key).first()
        if row is None:
            return default
        if row.number is not None:
            return row.number
        return pickle.loads(bytes(row.value))  # noqa: S301 - written by this class only

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._model().objects.update_or_create(
            key=key, defaults={**self._row(value), "expires_at": self._expiry(timeout)}
        )

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Set ``key`` unless a live entry holds it: one atomic INSERT … ON CONFLICT."""
        key = self.make_and_validate_key(key, version=version)
        row = self._row(value)
        table = self._model()._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (key, value, number, expires_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, number = excluded.number, "
                "expires_at = excluded.expires_at "
                f"WHERE {table}.expires_at IS NOT NULL AND {table}.expires_at <= %s "
                "RETURNING key",
                [key, row["value"], row["number"], self._expiry(timeout), timezone.now()],
            )
            return cursor.fetchone() is not None

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        table = self._model()._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET number = number + %s "  # noqa: S608
                "WHERE key = %s AND number IS NOT NULL "
                "AND (expires_at IS NULL OR expires_at > %s) RETURNING number",
                [delta, key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(
            self._model()
            .objects.filter(self._live(), key=key)
            .update(expires_at=self._expiry(timeout))
        )

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        deleted, _ = self._model().objects.filter(key=key).delete()
        return bool(deleted)

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._model().objects.filter(self._live(), key=key).exists()

    def clear(self) -> None:
        self._model().objects.all().delete()

    def purge_expired(self) -> int:
        deleted, _ = self._model().objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted


class FailoverCache(BaseCache):
    """Redis (``OPTIONS["PRIMARY"]``, a cache alias) with the database cache
    (``OPTIONS["FALLBACK"]``) behind a circuit breaker."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self.primary_alias = options["PRIMARY"]
        self.fallback_alias = options["FALLBACK"]
        self.breaker = CircuitBreaker(
            logger=logger,
            seconds=lambda: settings.REDIS_BREAKER_SECONDS,
            down="Redis unavailable (%s): the cache uses the database for now",
            up="Redis answers again: the cache uses it again",
        )

    @staticmethod
    def _failures() -> tuple[type[BaseException], ...]:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        return (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.breaker.allows():
            try:
                result = getattr(caches[self.primary_alias], name)(*args, **kwargs)
            except self._failures() as exc:
                self.breaker.failed(exc)
            else:
                self.breaker.succeeded()
                return result
        # Not inside the caller's transaction: a failed statement must not break it.
        with transaction.atomic(savepoint=True):
            return getattr(caches[self.fallback_alias], name)(*args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self._call("incr", key, -delta, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def clear(self):
        return self._call("clear")
