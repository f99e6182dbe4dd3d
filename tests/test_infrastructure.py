"""The suite runs against the real services; these fail (never skip) when one is missing."""

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_talks_to_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_it_talks_to_redis() -> None:
    assert settings.CACHES["redis"]["BACKEND"] == "django_redis.cache.RedisCache"
    from django_redis import get_redis_connection

    assert get_redis_connection("redis").ping() is True
    cache.set("infrastructure-probe", "ok", 5)
    assert cache.get("infrastructure-probe") == "ok"
    assert caches["redis"].get("infrastructure-probe") == "ok"  # Redis itself, not the fallback
