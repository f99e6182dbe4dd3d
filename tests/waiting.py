"""Waiting for what another process does: a worker's job, a server coming up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    timeout: float = 30,
    every: float = 0.3,
    *,
    what: str = "the awaited change",
    describe: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` every ``every`` seconds until it returns something true, and return that.
    After ``timeout`` seconds, an AssertionError: ``what`` did not happen, followed by
    ``describe()`` (the end of a log, say) where given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    message = f"{what} did not happen within {timeout:.0f} s"
    if describe is not None:
        message += f":\n{describe()}"
    raise AssertionError(message)
