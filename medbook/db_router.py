"""Read/write split: reads that may be a little stale go to the streaming replica (the
``replica`` alias, configured from ``DATABASE_REPLICA_URL``); everything else to the primary.

The rule is an allowlist, so a forgotten case costs a primary read, never a stale decision. A
read goes to the replica only when all of these hold:

- the request was marked by :class:`ReadRoutingMiddleware`: a ``GET``/``HEAD`` of one of the
  pages in ``settings.REPLICA_READ_VIEWS`` (the public catalogue, a member's own lists: pages that
  show, never pages that decide) by a browser that has not written in the last
  ``REPLICA_PIN_SECONDS`` (read-your-writes: a request that posts or writes sets a signed
  cookie, and while it is valid every request of that browser reads the primary). Celery tasks,
  management commands, staff pages, the API and the booking path are never marked;
- no transaction is open on the primary (``transaction.atomic``: a service reading what it
  will decide on) and the query is not ``select_for_update`` (Django routes those as writes);
- the model is not one whose staleness breaks something (sessions, the cache table);
- the replica answers and its replay lag (``pg_last_xact_replay_timestamp``, looked up at most
  every ``REPLICA_LAG_CHECK_SECONDS``) is under ``REPLICA_MAX_LAG_SECONDS``; after a failure it
  is left alone for ``REPLICA_RETRY_SECONDS``.

Without ``DATABASE_REPLICA_URL`` (the embedded SQLite default, a single PostgreSQL) there is no
``replica`` alias and every method here answers ``default``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

logger = logging.getLogger("medbook.database")

REPLICA = "replica"
PIN_COOKIE = "mb_primary"
PIN_SALT = "medbook.db_router.pin"

#: Models always read from the primary, whatever the request: a session or a cache entry read
#: from a replica a moment behind would log a member out or hand out a spent code.
PRIMARY_ONLY_MODELS = frozenset({"sessions.session", "medbook.cacheentry"})
#: Writes that do not make a browser's later reads need the primary (a session's last-seen
#: time, a cache entry): everything else a request writes pins it.
UNPINNING_WRITES = PRIMARY_ONLY_MODELS

# Whether the code running now may read from the replica (set per request by the middleware).
_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "medbook_replica_reads", default=False
)
# Whether this request checked its replica connection already (once per request: SELECT 1).
_verified: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "medbook_replica_verified", default=None
)
# Whether the current request wrote something that should pin its browser to the primary.
_wrote: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "medbook_request_wrote", default=None
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class ReplicaState:
    """What this process knows about the replica: usable or not, and since when."""

    LAG_SQL = (
        "SELECT pg_is_in_recovery(), "
        "(SELECT status FROM pg_stat_wal_receiver LIMIT 1), "
        "CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0 "
        "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.usable = False
        self.lag: float | None = None
        self.reason = "not checked"

    def reset(self) -> None:
        with self.lock:
            self.checked_at = float("-inf")
            self.usable, self.lag, self.reason = False, None, "not checked"

    def _measure(self) -> tuple[bool, float | None, str]:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(self.LAG_SQL)
            in_recovery, receiver, lag = cursor.fetchone()
        if in_recovery and receiver != "streaming":
            return False, None, f"not streaming ({receiver or 'no WAL receiver'})"
        lag = float(lag or 0)
        if lag > settings.REPLICA_MAX_LAG_SECONDS:
            return False, lag, f"lag {lag:.1f} s"
        return True, lag, "ok"

    def usable_now(self) -> bool:
        """Whether reads may go to the replica now; measured at most every few seconds."""
        now = time.monotonic()
        wait = settings.REPLICA_LAG_CHECK_SECONDS if self.usable else settings.REPLICA_RETRY_SECONDS
        if now - self.checked_at < wait:
            return self._connected() if self.usable else False
        with self.lock:
            if time.monotonic() - self.checked_at < wait:
                return self._connected() if self.usable else False
            was = self.usable
            try:
                usable, lag, reason = self._measure()
            except Exception as exc:  # refused, reset, timed out: the replica is down
                connections[REPLICA].close()
                usable, lag, reason = False, None, f"down: {type(exc).__name__}"
            self.usable, self.lag, self.reason = usable, lag, reason
            self.checked_at = time.monotonic()
            verified = _verified.get()
            if usable and verified is not None:
                verified[0] = True  # the lag query just used this thread's connection
            if usable and not was:
                logger.info("replica in use (lag %.1f s)", lag or 0)
            elif was and not usable:
                logger.warning("replica not used (%s): reads go to the primary", reason)
        return usable

    def _connected(self) -> bool:
        """The replica connection of this thread works: checked once per request (an open one
        with ``SELECT 1``, a closed one by opening it) before the first query, where a failure
        would be an error page; a failure marks the replica down and reads go to the primary."""
        verified = _verified.get()
        if verified is not None and verified[0]:
            return True
        connection = connections[REPLICA]
        try:
            if connection.connection is not None and not connection.is_usable():
                connection.close()
            connection.ensure_connection()
        except Exception as exc:
            with self.lock:
                self.usable, self.reason = False, f"down: {type(exc).__name__}"
                self.checked_at = time.monotonic()
            connection.close()
            logger.warning("replica not used (%s): reads go to the primary", self.reason)
            return False
        if verified is not None:
            verified[0] = True
        return True

    def failed(self, exc: Exception) -> None:
        """A query on the replica failed: reads go to the primary for REPLICA_RETRY_SECONDS."""
        with self.lock:
            self.usable, self.reason = False, f"down: {type(exc).__name__}"
            self.checked_at = time.monotonic()
        with contextlib.suppress(Exception):
            connections[REPLICA].close()
        logger.warning("replica not used (%s): reads go to the primary", self.reason)


state = ReplicaState()


def _label(model: type | None) -> str:
    return model._meta.label_lower if model is not None else ""


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS`` entry: see the module docstring."""

    def db_for_read(self, model: type | None, **hints: object) -> str:
        if not _replica_reads.get() or not replica_configured():
            return DEFAULT_DB_ALIAS
        if _label(model) in PRIMARY_ONLY_MODELS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA if state.usable_now() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type | None, **hints: object) -> str:
        wrote = _wrote.get()
        if wrote is not None and _label(model) not in UNPINNING_WRITES:
            wrote[0] = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool:
        # The replica is a copy of the primary: rows from either relate freely.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        return db == DEFAULT_DB_ALIAS


class primary_reads:
    """``with primary_reads():`` — everything inside reads the primary (a view that reads
    what it is about to decide on outside a transaction)."""

    def __enter__(self) -> None:
        self.token = _replica_reads.set(False)

    def __exit__(self, *exc: object) -> None:
        _replica_reads.reset(self.token)


def _pinned(request: HttpRequest) -> bool:
    return (
        request.get_signed_cookie(
            PIN_COOKIE, default=None, salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS
        )
        is not None
    )


def _replica_view(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name in settings.REPLICA_READ_VIEWS


class ReadRoutingMiddleware:
    """Marks the requests whose reads may go to the replica, and pins a browser to the primary
    for ``REPLICA_PIN_SECONDS`` after a request of it posted or wrote (read-your-writes)."""

    SAFE = ("GET", "HEAD")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        may_read_replica = (
            request.method in self.SAFE and not _pinned(request) and _replica_view(request)
        )
        wrote = [False]
        reads_token = _replica_reads.set(may_read_replica)
        wrote_token = _wrote.set(wrote)
        verified_token = _verified.set([False])
        try:
            response = self.get_response(request)
        finally:
            _replica_reads.reset(reads_token)
            _wrote.reset(wrote_token)
            _verified.reset(verified_token)
        if request.method not in self.SAFE or wrote[0]:
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_SALT,
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The replica failed in the middle of a page read from it (stopped just after this
        request checked its connection): the page is served again from the primary, once, so
        the member gets it instead of a 503. Only GET/HEAD of pages that show read the replica,
        so running the view again writes nothing twice; an error from the primary fails again
        and is answered as before."""
        verified = _verified.get()
        if not (
            _replica_reads.get()
            and verified is not None
            and verified[0]
            and isinstance(exception, (OperationalError, InterfaceError))
            and request.resolver_match is not None
        ):
            return None
        state.failed(exception)
        match = request.resolver_match
        token = _replica_reads.set(False)
        try:
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response = response.render()
        finally:
            _replica_reads.reset(token)
        return response
