"""A circuit breaker: after a dependency fails, a process leaves it alone for a while.

MedBook puts one in front of each service whose outage would otherwise make every request
wait for a timeout — Redis (medbook.cache), the broker (medbook.outbox) and PostgreSQL
(medbook.postgresql). ``allows()`` says whether to try the service now; ``failed()`` opens the
breaker for ``seconds()`` and ``succeeded()`` closes it, each logging one line when the state
changes (never one per call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self, *, logger: logging.Logger, seconds: Callable[[], float], down: str, up: str
    ) -> None:
        self.logger = logger
        self.seconds = seconds
        self.down_message = down  # formatted with the error
        self.up_message = up
        self.lock = threading.Lock()
        self.open_until = 0.0
        self.is_open = False

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            self.open_until = time.monotonic() + self.seconds()
            if not self.is_open:
                self.is_open = True
                first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
                self.logger.warning(
                    self.down_message, f"{type(exc).__name__}: {first_line}".rstrip(": ")
                )

    def succeeded(self) -> None:
        if self.is_open:
            with self.lock:
                if self.is_open:
                    self.is_open = False
                    self.logger.warning(self.up_message)

    def retry_now(self) -> None:
        """Let the next call try the service whatever the breaker says (a sweep that must)."""
        self.open_until = 0.0
