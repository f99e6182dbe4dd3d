"""An unreachable database is a 503 page with Retry-After, rendered without the database; any
other error stays a 500. (tests/faults shows it over HTTP with PostgreSQL really cut.)"""

from __future__ import annotations

import logging

import pytest
from django.db import IntegrityError, OperationalError
from django.test import RequestFactory

from medbook import failures

pytestmark = pytest.mark.core


def answer_to(exc: Exception):
    try:
        raise exc
    except Exception:
        return failures.server_error(RequestFactory().get("/book/1/"))


def test_an_unreachable_database_is_a_503_page_with_retry_after() -> None:
    # No django_db mark: pytest-django would fail the test if the page touched the database.
    response = answer_to(OperationalError("connection refused"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "暂时无法使用" in response.content.decode()
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_a_database_error_wrapped_in_another_is_an_outage_too() -> None:
    try:
        raise OperationalError("pool timeout")
    except OperationalError as exc:
        wrapped = RuntimeError("while loading the session")
        wrapped.__cause__ = exc
    assert answer_to(wrapped).status_code == 503


@pytest.mark.parametrize("exc", [ValueError("bug"), IntegrityError("duplicate key")])
def test_any_other_error_is_a_500(exc) -> None:
    assert answer_to(exc).status_code == 500


def test_a_503_is_logged_as_one_line() -> None:
    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", (), None)
    record.status_code = 503
    try:
        raise OperationalError("down")
    except OperationalError:
        import sys

        record.exc_info = sys.exc_info()
    failures.OutagesInOneLine().filter(record)
    assert record.exc_info is None


def test_a_web_request_waits_for_an_unreachable_postgresql_only_once(monkeypatch) -> None:
    """After its first attempt failed, a request's later attempts (the error path's session and
    user look-ups) fail at once even when the breaker's pause is over; the next request, and
    work outside requests, try again. (The request_started/finished receivers are called
    directly: sending the signals would also run Django's close_old_connections.)"""
    import psycopg

    from medbook.breaker import CircuitBreaker
    from medbook.postgresql import base

    attempts = []

    def unreachable(self, conn_params):
        attempts.append(1)
        raise psycopg.OperationalError("connection refused")

    breaker = CircuitBreaker(logger=logging.getLogger("test"), seconds=lambda: 60, down="%s", up="")
    monkeypatch.setattr(base, "breaker", breaker)
    monkeypatch.setattr(base.base.DatabaseWrapper, "get_new_connection", unreachable)
    wrapper = base.DatabaseWrapper.__new__(base.DatabaseWrapper)

    def attempt() -> None:
        with pytest.raises(psycopg.OperationalError):
            wrapper.get_new_connection({})

    base._request_starts()
    attempt()
    breaker.retry_now()  # the pause is over, as on a slow machine
    attempt()
    assert len(attempts) == 1
    base._request_ends()

    base._request_starts()
    breaker.retry_now()
    attempt()
    assert len(attempts) == 2
    base._request_ends()

    breaker.retry_now()  # outside any request (a job): every attempt is its own
    attempt()
    breaker.retry_now()
    attempt()
    assert len(attempts) == 4


def test_the_request_receivers_are_connected() -> None:
    from django.core.signals import request_finished, request_started

    from medbook.postgresql import base

    def receivers(signal) -> list:
        return [ref() for _key, ref, *_ in signal.receivers]

    assert base._request_starts in receivers(request_started)
    assert base._request_ends in receivers(request_finished)
