"""Fixed-window rate limits on shared, atomic counters (Redis INCR in production, so every web
process counts together; the local-memory cache in the embedded default).

Who is counted (a phone number, a username, an address) never appears in a cache key in plain
text: keys carry a keyed hash of it (the HMAC blind index of :mod:`medbook.crypto`), so a look
at Redis tells nobody which numbers tried to log in.
"""

from __future__ import annotations

import contextlib
import time

from django.core.cache import cache

from .crypto import blind_index


def key_for(scope: str, who: str, window: int) -> str:
    """The counter of ``who`` in ``scope`` for the current ``window`` (the release gate counts
    on the same keys in Redis)."""
    digest = blind_index(who, purpose=f"throttle:{scope}")[:32]
    return f"throttle:{scope}:{digest}:{int(time.time()) // window}"


def hit(*, scope: str, who: str, limit: int, window: int) -> bool:
    """Count one attempt; False once more than ``limit`` fell into this ``window`` seconds."""
    return tally(scope=scope, who=who, window=window) <= limit


def tally(*, scope: str, who: str, window: int) -> int:
    """Count one attempt and return how many fell into this ``window`` so far (this one
    included). One atomic increment, so parallel attempts from many processes each get their
    own number. 0 when the cache cannot count (its errors are ignored): nobody is locked out."""
    key = key_for(scope, who, window)
    cache.add(key, 0, window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.add(key, 1, window + 1)
        count = 1
    return int(count or 0)


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/60" → (10 attempts, 60 seconds)."""
    attempts, _, seconds = rate.partition("/")
    return int(attempts), int(seconds or 60)


def allow(*, scope: str, who: str, rate: str) -> bool:
    """Count one attempt against ``rate``; several rates may be given, comma separated
    ("1/60,10/3600"): the attempt is allowed only within all of them."""
    allowed = True
    for part in rate.split(","):
        limit, window = parse_rate(part.strip())
        allowed = hit(scope=scope, who=who, limit=limit, window=window) and allowed
    return allowed


def undo(*, scope: str, who: str, window: int) -> None:
    """Give back one attempt of this window (it turned out not to count, e.g. a good login)."""
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(key_for(scope, who, window))


def count(*, scope: str, who: str, window: int) -> int:
    return int(cache.get(key_for(scope, who, window)) or 0)


def reset(*, scope: str, who: str, window: int) -> None:
    cache.delete(key_for(scope, who, window))
