"""Issue 14: two processes presenting the same refresh token at once — one of them is a copy.
Exactly one exchange succeeds, the other is taken for reuse, and the family ends (the rows are
locked, so the check and the rotation cannot interleave)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from medbook.api import tokens
from medbook.api.errors import TokenReused
from medbook.models import ApiTokenFamily, TokenRevocation
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_a_refresh_token_presented_twice_at_once_is_exchanged_once(levels) -> None:
    member = MemberFactory()
    pair = tokens.issue_tokens(user=member.user, second_factor=False)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def exchange() -> None:
        try:
            start.wait()
            tokens.rotate_refresh_token(raw=pair.refresh)
            outcomes.append("rotated")
        except TokenReused:
            outcomes.append("reused")
        except Exception as exc:  # the revoked family: a later arrival
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=exchange) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("rotated") == 1, outcomes
    assert outcomes.count("reused") >= 1, outcomes
    family = ApiTokenFamily.objects.get(pk=pair.family.id)
    assert family.revoked_reason == TokenRevocation.REUSE
    assert family.refreshed_at is not None  # the one exchange that won
