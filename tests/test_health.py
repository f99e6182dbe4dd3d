"""``/healthz`` and ``/readyz`` in-process: answered before the host check, the HTTPS redirect,
sessions and logins; the liveness probe touches no dependency."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_liveness_answers_without_asking_anything(client, settings, path) -> None:
    settings.SECURE_SSL_REDIRECT = True
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, HTTP_HOST="10.0.0.7")  # a pod address, not an allowed host
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert len(queries) == 0
    assert "Set-Cookie" not in response


def test_readiness_reports_every_part(client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "replica", "redis", "broker"}
    assert body["checks"]["replica"]["state"] == "not used"  # no DATABASE_REPLICA_URL
    assert body["checks"]["database"] == {
        "ok": True,
        "state": "ok",
        "ms": body["checks"]["database"]["ms"],
        "required": True,
    }
    assert body["checks"]["migrations"]["ok"] is True


def test_head_gets_the_status_without_a_body(client) -> None:
    response = client.head("/readyz")
    assert response.status_code == 200
    assert response.content == b""


def test_other_methods_are_not_probes(client) -> None:
    assert client.post("/healthz").status_code in (403, 404, 405)
