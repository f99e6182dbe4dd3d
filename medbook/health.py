"""Health probes for load balancers and Kubernetes: ``/healthz`` and ``/readyz`` (and the
Prometheus scrape, ``/metrics``: medbook.metrics).

Both are answered by :class:`HealthProbeMiddleware`, first in the chain: before the host check
(a probe asks by the pod's address), the HTTPS redirect (probes speak plain HTTP inside the
cluster), sessions, logins and the language — a probe costs nothing it does not check.

- ``/healthz``: the process answers. No dependency is asked (a database outage must not make
  the orchestrator restart every web process).
- ``/readyz``: may this process take traffic? JSON with each part's state. The probe fails (503)
  when a part the site cannot work without fails: the database (``SELECT 1``) and the
  migrations (none unapplied: a new release waits for its migrate job). Redis and the broker
  are reported but do not fail it: MedBook keeps working without them (the cache fails over to
  the database, promised jobs wait in the outbox), and taking every web process out of the
  balancer because Redis is down would turn a degraded site into no site.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpRequest, HttpResponse

REQUIRED = ("database", "migrations")
_migrated = False  # once every migration is applied it stays so for this process


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _migrations() -> str:
    global _migrated
    if not _migrated:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return f"{len(plan)} unapplied"
        _migrated = True
    return "ok"


def _redis() -> str:
    if "redis" not in settings.CACHES:
        return "not used"
    caches["redis"].client.get_client(write=True).ping()
    return "ok"


def _broker() -> str:
    from medbook.celery import app

    if settings.CELERY_BROKER_URL == "filesystem://":
        return "ok (embedded queue)"
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=1)
    return "ok"


def _replica() -> str:
    """The read replica's state as the router sees it (medbook/db_router.py). Not required:
    without it reads go to the primary."""
    from . import db_router

    if not db_router.replica_configured():
        return "not used"
    db_router.state.usable_now()
    if not db_router.state.usable:
        raise RuntimeError(db_router.state.reason)
    return f"ok (lag {db_router.state.lag or 0:.1f} s)"


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "migrations": _migrations,
    "replica": _replica,
    "redis": _redis,
    "broker": _broker,
}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """Each part's state and how long it took to ask; ready when every required part is ok."""
    parts: dict[str, dict[str, object]] = {}
    ready = True
    for name, check in CHECKS.items():
        began = time.monotonic()
        try:
            state, ok = check(), True
        except Exception as exc:  # any failure of the part is its state, never a 500
            # The replica says why itself ("down: …", "lag 3.2 s", "not streaming …").
            state = str(exc) if name == "replica" else f"down: {type(exc).__name__}"
            ok = False
        ok = ok and not state.endswith("unapplied")
        parts[name] = {
            "ok": ok,
            "state": state,
            "ms": round((time.monotonic() - began) * 1000, 1),
            "required": name in REQUIRED,
        }
        if name in REQUIRED and not ok:
            ready = False
    return ready, parts


def _json(body: dict, status: int) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/json; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthProbeMiddleware:
    """Answers ``GET``/``HEAD`` ``/healthz`` and ``/readyz`` before anything else runs."""

    PATHS = ("/healthz", "/readyz", "/metrics")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path not in self.PATHS or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if path == "/metrics":
            from .metrics import metrics_view

            try:
                response = metrics_view(request)
            except Http404:
                response = HttpResponse("Not Found", status=404, content_type="text/plain")
        elif path == "/healthz":
            response = _json({"status": "ok"}, 200)
        else:
            ready, parts = readiness()
            response = _json(
                {"status": "ready" if ready else "not ready", "checks": parts},
                200 if ready else 503,
            )
        if request.method == "HEAD":
            response.content = b""
        return response
