"""The cache keeps working when Redis does not: refused or hung, calls go to the database behind
a circuit breaker, counters stay exact across threads, and Redis is used again once it is back.
Redis is really cut off here, through a TCP proxy in front of the real server."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.core.cache import caches
from django.db import connection

from medbook.breaker import CircuitBreaker
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.postgres

REDIS = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy((REDIS.hostname or "127.0.0.1", REDIS.port or 6379)) as proxy:
        yield proxy


@pytest.fixture
def shared_cache(settings, proxy, monkeypatch):
    """The production cache set-up, with Redis behind the proxy."""
    settings.REDIS_BREAKER_SECONDS = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "medbook.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "database"},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{proxy.port}{REDIS.path or '/15'}",
            "KEY_PREFIX": "failover-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
        "database": {"BACKEND": "medbook.cache.DatabaseCache", "KEY_PREFIX": "failover-test"},
    }
    cache = caches["default"]
    cache.clear()
    yield cache
    caches["redis"].close()


def counter(cache, key: str = "hits") -> int:
    cache.add(key, 0, 60)
    return cache.incr(key)


@pytest.mark.django_db
def test_it_counts_in_the_database_while_redis_is_refused_and_says_so_once(
    shared_cache, proxy, caplog
) -> None:
    assert counter(shared_cache) == 1  # in Redis
    proxy.refuse()

    counts = [counter(shared_cache, "during") for _ in range(20)]

    assert counts == list(range(1, 21))
    shared_cache.set("hint", {"sold_out": True}, 60)
    assert shared_cache.get("hint") == {"sold_out": True}
    assert shared_cache.add("hint", "x", 60) is False
    warnings = [r for r in caplog.records if r.name == "medbook.cache"]
    assert [r.getMessage()[:17] for r in warnings] == ["Redis unavailable"]
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.django_db
def test_a_hung_redis_costs_one_timeout_per_breaker_period_not_one_per_call(
    shared_cache, proxy
) -> None:
    shared_cache.set("warm", 1, 60)
    proxy.hang()
    accepted = proxy.accepted

    for _ in range(30):
        counter(shared_cache)

    # One call waited for Redis and tripped the breaker; the others went to the database.
    assert proxy.accepted - accepted <= 1
    assert caches["database"].get("hits") == 30


@pytest.mark.django_db
def test_it_goes_back_to_redis_once_redis_answers(shared_cache, proxy, caplog) -> None:
    proxy.refuse()
    shared_cache.set("k", "from the database", 60)
    proxy.heal()
    time.sleep(1.1)  # the breaker's period (1 s here)

    shared_cache.set("k", "from redis", 60)

    assert caches["redis"].get("k") == "from redis"
    assert "Redis answers again" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_counters_stay_exact_across_threads_while_redis_is_down(shared_cache, proxy) -> None:
    proxy.refuse()
    counter(shared_cache, "shared")  # 1
    results: list[int] = []
    errors: list[BaseException] = []

    def hit() -> None:
        try:
            for _ in range(25):
                results.append(caches["default"].incr("shared"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == list(range(2, 202))


@pytest.mark.django_db
def test_an_expired_entry_can_be_added_again_and_expired_entries_are_purged(shared_cache, proxy):
    proxy.refuse()
    database = caches["database"]
    database.set("old", 5, 60)
    from medbook.models import CacheEntry

    CacheEntry.objects.all().update(expires_at="2000-01-01T00:00:00Z")

    assert shared_cache.get("old") is None
    assert shared_cache.add("old", 1, 60) is True
    with pytest.raises(ValueError):
        shared_cache.incr("missing")
    database.set("gone", 1, 60)
    CacheEntry.objects.filter(key__endswith="gone").update(expires_at="2000-01-01T00:00:00Z")
    assert database.purge_expired() == 1


def test_a_breaker_logs_one_line_per_change_of_state(caplog) -> None:
    log = logging.getLogger("test.breaker")
    breaker = CircuitBreaker(logger=log, seconds=lambda: 10, down="down (%s)", up="up again")
    caplog.set_level(logging.WARNING, logger="test.breaker")

    for _ in range(5):
        breaker.failed(ConnectionError("refused"))
    assert not breaker.allows()
    breaker.succeeded()
    breaker.succeeded()

    assert [r.getMessage() for r in caplog.records] == [
        "down (ConnectionError: refused)",
        "up again",
    ]
