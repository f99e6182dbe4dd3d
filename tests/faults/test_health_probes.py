"""The health probes against gunicorn (production settings) whose PostgreSQL, Redis and
RabbitMQ sit behind TCP proxies: each service cut in turn. ``/healthz`` answers whatever is
down; ``/readyz`` fails (503, naming the part) only while the database is unreachable, and
reports Redis and the broker without failing (the site keeps working without them)."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.faults.harness import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def probe(clinic, path: str, host: str = "10.1.2.3") -> tuple[int, dict]:
    """A probe as Kubernetes sends it: plain HTTP, the pod's address as the host."""
    connection = http.client.HTTPConnection("127.0.0.1", clinic.port, timeout=15)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_the_probes_follow_each_service(clinic) -> None:
    clinic.start_web(workers=1)
    status, body = probe(clinic, "/readyz")
    assert status == 200, body
    assert body["status"] == "ready"
    assert {name: part["ok"] for name, part in body["checks"].items()} == {
        "database": True,
        "migrations": True,
        "redis": True,
        "broker": True,
        "replica": True,  # none configured: reads stay on the primary
    }
    assert probe(clinic, "/healthz") == (200, {"status": "ok"})

    clinic.postgres.refuse()
    status, body = probe(clinic, "/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["state"].startswith("down")
    assert probe(clinic, "/healthz") == (200, {"status": "ok"})  # no restart for an outage
    clinic.postgres.heal()
    assert eventually(lambda: probe(clinic, "/readyz")[0] == 200, timeout=30)

    clinic.redis.refuse()
    status, body = probe(clinic, "/readyz")
    assert status == 200, body  # degraded, still serving: the cache fails over
    assert body["checks"]["redis"]["ok"] is False
    clinic.redis.heal()

    clinic.rabbitmq.refuse()
    status, body = probe(clinic, "/readyz")
    assert status == 200, body  # promised jobs wait in the outbox
    assert body["checks"]["broker"]["ok"] is False
    clinic.rabbitmq.heal()
    assert eventually(lambda: all(p["ok"] for p in probe(clinic, "/readyz")[1]["checks"].values()))
