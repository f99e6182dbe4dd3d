"""Django's PostgreSQL backend with a circuit breaker: while PostgreSQL is unreachable, a process
waits for it once (the pool's timeout), then answers at once for ``BREAKER_SECONDS`` instead of
making every request — and every query of a request — wait again. Requests fail fast with a
503 (medbook/failures.py) and the first request after the pause tries again, so service resumes
within about a second of PostgreSQL's return. One log line per change of state.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from django.db.backends.postgresql import base

logger = logging.getLogger("medbook.database")

BREAKER_SECONDS = 1.0


class _Breaker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0
        self.is_open = False

    def check(self) -> None:
        if time.monotonic() < self.open_until:
            raise psycopg.OperationalError("PostgreSQL unavailable (waiting before trying again)")

    def trip(self, exc: BaseException) -> None:
        with self.lock:
            self.open_until = time.monotonic() + BREAKER_SECONDS
            if not self.is_open:
                self.is_open = True
                logger.warning(
                    "PostgreSQL unavailable (%s): answering 503 until it is back",
                    str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
                )

    def reset(self) -> None:
        if self.is_open:
            with self.lock:
                if self.is_open:
                    self.is_open = False
                    logger.warning("PostgreSQL reachable again")


breaker = _Breaker()


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        breaker.check()
        try:
            connection = super().get_new_connection(conn_params)
        except Exception as exc:  # psycopg's and the pool's errors alike
            breaker.trip(exc)
            raise
        breaker.reset()
        return connection
