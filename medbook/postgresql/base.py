"""Django's PostgreSQL backend with a circuit breaker: while PostgreSQL is unreachable, a process
waits for it once (the pool's timeout), then answers at once for ``BREAKER_SECONDS`` instead of
making every request — and every query of a request — wait again. Requests fail fast with a
503 (medbook/failures.py) and the first request after the pause tries again, so service resumes
within about a second of PostgreSQL's return. One log line per change of state.
"""

from __future__ import annotations

import logging

import psycopg
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


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if not breaker.allows():
            raise psycopg.OperationalError("PostgreSQL unavailable (waiting before trying again)")
        try:
            connection = super().get_new_connection(conn_params)
        except Exception as exc:  # psycopg's and the pool's errors alike
            breaker.failed(exc)
            raise
        breaker.succeeded()
        return connection
