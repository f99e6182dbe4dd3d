"""One-time codes sent by text: single use, short-lived, a few tries.

A code is kept only as a keyed hash in the cache (Redis in production, so every web process
sees the same state); the tries are counted with an atomic increment. Keys name the subject by a
keyed hash too (the HMAC blind index), never in plain text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache

from medbook.crypto import blind_index


def _key(purpose: str, subject: str) -> str:
    return f"otp:{purpose}:{blind_index(subject, purpose=f'otp:{purpose}')[:32]}"


def _digest(code: str, subject: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{subject}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def issue_code(*, purpose: str, subject: str) -> str:
    """A new six-digit code for ``subject``; any earlier one stops working."""
    code = f"{secrets.randbelow(10**6):06d}"
    timeout = settings.MEDBOOK_CODE_TIMEOUT
    cache.set(_key(purpose, subject), _digest(code, subject), timeout)
    cache.set(_key(purpose, subject) + ":tries", 0, timeout)
    return code


def check_code(*, purpose: str, subject: str, code: str) -> bool:
    """True once for the right code within its time and tries; the code is then used up."""
    key = _key(purpose, subject)
    expected = cache.get(key)
    if expected is None:
        return False
    try:
        tries = cache.incr(key + ":tries")
    except ValueError:  # the counter expired between the two reads
        return False
    if tries > settings.MEDBOOK_CODE_MAX_ATTEMPTS:
        cache.delete_many([key, key + ":tries"])
        return False
    if not hmac.compare_digest(expected, _digest(code.strip(), subject)):
        return False
    # Single use: only the request that deletes the code may use it.
    return bool(cache.delete(key))


def discard_code(*, purpose: str, subject: str) -> None:
    """Any code issued for ``subject`` stops working."""
    key = _key(purpose, subject)
    cache.delete_many([key, key + ":tries"])
