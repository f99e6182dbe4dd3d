"""Fixed-window rate limits on shared, atomic counters (Redis INCR in production, so every web
process counts together; the local-memory cache in the embedded default)."""

from __future__ import annotations

import contextlib
import time

from django.core.cache import cache


def _key(scope: str, who: str, window: int) -> str:
    return f"throttle:{scope}:{who}:{int(time.time()) // window}"


def hit(*, scope: str, who: str, limit: int, window: int) -> bool:
    """Count one attempt; False once more than ``limit`` fell into this ``window`` seconds."""
    key = _key(scope, who, window)
    cache.add(key, 0, window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.add(key, 1, window + 1)
        count = 1
    if count is None:  # the cache is down (its errors are ignored): do not lock people out
        return True
    return count <= limit


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/60" → (10 attempts, 60 seconds)."""
    attempts, _, seconds = rate.partition("/")
    return int(attempts), int(seconds or 60)


def allow(*, scope: str, who: str, rate: str) -> bool:
    limit, window = parse_rate(rate)
    return hit(scope=scope, who=who, limit=limit, window=window)


def undo(*, scope: str, who: str, window: int) -> None:
    """Give back one attempt of this window (it turned out not to count, e.g. a good login)."""
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(_key(scope, who, window))


def count(*, scope: str, who: str, window: int) -> int:
    return int(cache.get(_key(scope, who, window)) or 0)


def reset(*, scope: str, who: str, window: int) -> None:
    cache.delete(_key(scope, who, window))
