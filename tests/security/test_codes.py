"""One-time codes sent by text: single use, short-lived, a few tries."""

from __future__ import annotations

import time

import pytest

from members import codes

pytestmark = pytest.mark.core


def test_a_code_works_once() -> None:
    code = codes.issue_code(purpose="test", subject="1")
    assert codes.check_code(purpose="test", subject="1", code=code)
    assert not codes.check_code(purpose="test", subject="1", code=code)


def test_a_code_expires(settings) -> None:
    settings.MEDBOOK_CODE_TIMEOUT = 1
    code = codes.issue_code(purpose="test", subject="2")
    time.sleep(1.5)
    assert not codes.check_code(purpose="test", subject="2", code=code)


def test_a_code_dies_after_five_wrong_tries() -> None:
    code = codes.issue_code(purpose="test", subject="3")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert not codes.check_code(purpose="test", subject="3", code=wrong)
    assert not codes.check_code(purpose="test", subject="3", code=code)


def test_a_new_code_replaces_the_old_one() -> None:
    old = codes.issue_code(purpose="test", subject="4")
    new = codes.issue_code(purpose="test", subject="4")
    if old != new:
        assert not codes.check_code(purpose="test", subject="4", code=old)
    assert codes.check_code(purpose="test", subject="4", code=new)


def test_codes_are_kept_hashed_never_in_the_clear() -> None:
    from django.core.cache import cache

    code = codes.issue_code(purpose="test", subject="5")
    stored = cache.get(codes._key("test", "5"))
    assert stored is not None and stored != code and code not in str(stored)
