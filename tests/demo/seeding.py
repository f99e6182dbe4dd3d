"""Seed the demo once for a group of tests (a module or a class) instead of once per test.

The seed runs inside a transaction that stays open while the group's tests run: pytest-django
runs each (non-transactional) test in an atomic block of its own, which becomes a savepoint
inside it and is rolled back after the test as usual, so what one test changes never reaches
the next. When the group ends the outer transaction is rolled back too, and the database is
exactly as the session's setup left it (the levels, roles and rules of the data migrations
included: nothing is flushed). Not for ``transaction=True`` tests, which commit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

# The hasher every test uses (tests/conftest.py's _fast_password_hashing, a per-test fixture
# that is not active yet when a group's seed runs): the seeded members' password must be
# hashed the way the tests will check it.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def seeded_for_group(django_db_blocker: Any, **options: Any) -> Iterator[str]:
    """Run ``seed_demo`` with ``options``; yields what it printed. Rolled back on exit."""
    out = io.StringIO()
    block = transaction.atomic()
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        block.__enter__()
        try:
            call_command("seed_demo", stdout=out, **options)
        except BaseException as exc:
            block.__exit__(type(exc), exc, exc.__traceback__)
            raise
    try:
        yield out.getvalue()
    finally:
        with django_db_blocker.unblock():
            # Every test's own atomic block has been left: only ours is open.
            assert connection.in_atomic_block, "a test left the group's transaction"
            transaction.set_rollback(True)
            block.__exit__(None, None, None)
