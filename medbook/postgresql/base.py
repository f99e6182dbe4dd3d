"""Django's PostgreSQL backend with a circuit breaker: while PostgreSQL is unreachable, a process
waits for it once (the pool's timeout), then answers at once for ``BREAKER_SECONDS`` instead of
making every request — and every query of a request — wait again. Requests fail fast with a
503 (medbook/failures.py) and the first request after the pause tries again, so service resumes
within about a second of PostgreSQL's return. One log line per change of state.

A web request waits at most once: after its own attempt failed, every later connection attempt
of the same request (the error path's session or user look-ups, a response middleware) fails
at once even when the breaker's pause is over, so a request on a busy machine never adds the
pool's wait two or three times.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from django.core.signals import request_finished, request_started
from django.db.backends.postgresql import base

from medbook.breaker import CircuitBreaker

logger = logging.getLogger("medbook.database")

BREAKER_SECONDS = 1.0


breaker = CircuitBreaker(
    logger=logger,
    seconds=lambda: BREAKER_SECONDS,
    down="PostgreSQL unavailable (%s): answering 503 until it is back",
    up="PostgreSQL reachable again",
)


# The web request this thread serves, if any: whether its own attempt failed already.
_request = threading.local()


def _request_starts(**kwargs: object) -> None:
    _request.active, _request.failed = True, False


def _request_ends(**kwargs: object) -> None:
    _request.active, _request.failed = False, False


request_started.connect(_request_starts, dispatch_uid="medbook.postgresql.request_started")
request_finished.connect(_request_ends, dispatch_uid="medbook.postgresql.request_finished")


def _failed_in_this_request() -> bool:
    return getattr(_request, "active", False) and getattr(_request, "failed", False)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if _failed_in_this_request() or not breaker.allows():
            raise psycopg.OperationalError("PostgreSQL unavailable (waiting before trying again)")
        try:
            connection = super().get_new_connection(conn_params)
        except Exception as exc:  # psycopg's and the pool's errors alike
            _request.failed = True
            breaker.failed(exc)
            raise
        breaker.succeeded()
        return connection
