"""Prometheus metrics at ``/metrics`` (a bearer token, ``MEDBOOK_METRICS_TOKEN``; without one
the address does not exist).

Every process counts into prometheus_client's registry. With several processes (gunicorn's
workers, a prefork Celery worker, ``dev.py run``) set ``PROMETHEUS_MULTIPROC_DIR`` to a folder
they share, emptied before they start: each process then writes its counts there and a scrape
of any web process adds them up. Pods that don't share a folder (a Kubernetes worker
Deployment) serve their own with ``MEDBOOK_WORKER_METRICS_PORT``.

What is counted where:
- requests by view, method and status class, with their time and database statements
  (:class:`RequestMetricsMiddleware`);
- booking attempts decided by the database, by outcome (``won`` or the refusal's code), in
  ``billing.services.orders.place_booking``; the release gate's verdicts in
  ``billing.middleware`` (``sold_out`` is a loser answered from Redis);
- payment notifications by gateway and outcome, refunds by outcome (billing services);
- Celery tasks by outcome, and how long each waited in the queue (signals, below);
- read at scrape time from the database, so that every web process tells the same: each
  periodic job's last success and failure (``medbook.JobHeartbeat``) and the outbox's backlog.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Histogram(
    "medbook_http_request_duration_seconds",
    "Time to answer a request, by view (route name), method and status class.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUERIES = Histogram(
    "medbook_db_queries_per_request",
    "Database statements a request ran, by view.",
    ["view"],
    buckets=(0, 1, 2, 4, 8, 16, 32, 64, 128),
)
BOOKINGS = Counter(
    "medbook_bookings",
    "Booking attempts the database decided: won, or the refusal's code (sold_out, tier_limit …).",
    ["outcome"],
)
GATE = Counter(
    "medbook_release_gate_verdicts",
    "The release gate's verdicts on booking attempts (sold_out: a loser answered from Redis).",
    ["verdict"],
)
PAYMENT_NOTICES = Counter(
    "medbook_payment_notifications",
    "Payment gateways' notifications, by gateway and outcome.",
    ["gateway", "outcome"],
)
REFUNDS = Counter("medbook_refunds", "Refunds carried out (succeeded) or failed.", ["outcome"])
TASKS = Counter("medbook_celery_tasks", "Celery tasks by name and outcome.", ["task", "outcome"])
QUEUE_LAG = Histogram(
    "medbook_celery_queue_lag_seconds",
    "Time from a task's publication to its start on a worker.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)

access = logging.getLogger("medbook.access")

SENT_AT = "medbook_sent_at"  # the header the publisher stamps (seconds since the epoch)


def count_booking(outcome: str) -> None:
    BOOKINGS.labels(outcome).inc()


# -- requests --------------------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Each request's time and statements, labelled by its route's name (bounded: never the
    path, which holds ids)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        statements = [0]

        def counted(execute, sql, params, many, context):
            statements[0] += 1
            return execute(sql, params, many, context)

        began = time.perf_counter()
        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name or "-") if match is not None else "-"
        status = f"{response.status_code // 100}xx"
        seconds = time.perf_counter() - began
        REQUESTS.labels(view, request.method or "-", status).observe(seconds)
        QUERIES.labels(view).observe(statements[0])
        if access.isEnabledFor(logging.INFO):
            user = getattr(request, "_cached_user", None)  # never loaded just for the log
            access.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,  # the query string stays out
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "user_id": getattr(user, "pk", None),
                },
            )
        return response


# -- Celery ------------------------------------------------------------------------------------


def stamp_publication(headers: dict | None = None, **kwargs: object) -> None:
    """``before_task_publish``: when the task left, for the queue lag."""
    if headers is not None:
        headers.setdefault(SENT_AT, time.time())


def task_started(task=None, **kwargs: object) -> None:
    """``task_prerun``: how long the task waited in the queue."""
    sent_at = getattr(getattr(task, "request", None), SENT_AT, None)
    if sent_at is None:
        headers = getattr(getattr(task, "request", None), "headers", None) or {}
        sent_at = headers.get(SENT_AT)
    if sent_at is not None:
        QUEUE_LAG.labels(task.name).observe(max(0.0, time.time() - float(sent_at)))


def task_succeeded(sender=None, **kwargs: object) -> None:
    name = getattr(sender, "name", "-")
    TASKS.labels(name, "succeeded").inc()
    _heartbeat(name, ok=True)


def task_failed(sender=None, exception: BaseException | None = None, **kwargs: object) -> None:
    name = getattr(sender, "name", "-")
    TASKS.labels(name, "failed").inc()
    _heartbeat(name, ok=False, error=f"{type(exception).__name__}: {exception}"[:200])


def task_retried(sender=None, **kwargs: object) -> None:
    TASKS.labels(getattr(sender, "name", "-"), "retried").inc()


def _heartbeat(task: str, *, ok: bool, error: str = "") -> None:
    """A periodic job's last success or failure, kept in the database (one row per job)."""
    from .jobs import JOBS
    from .models import JobHeartbeat

    if task not in {job.task for job in JOBS}:
        return
    now = timezone.now()
    values = {"last_success_at": now} if ok else {"last_failure_at": now, "last_error": error}
    try:
        JobHeartbeat.objects.update_or_create(task=task, defaults=values)
    except Exception:  # the database is down: the job's own failure is what matters
        return


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(stamp_publication, dispatch_uid="medbook.metrics.sent")
    signals.task_prerun.connect(task_started, dispatch_uid="medbook.metrics.prerun")
    signals.task_success.connect(task_succeeded, dispatch_uid="medbook.metrics.success")
    signals.task_failure.connect(task_failed, dispatch_uid="medbook.metrics.failure")
    signals.task_retry.connect(task_retried, dispatch_uid="medbook.metrics.retry")
    signals.worker_ready.connect(serve_worker_metrics, dispatch_uid="medbook.metrics.serve")


def serve_worker_metrics(**kwargs: object) -> None:
    """A worker in a pod of its own serves its counts on ``MEDBOOK_WORKER_METRICS_PORT`` (for
    the cluster's scraper only: no token, keep the port off any public network)."""
    port = settings.MEDBOOK_WORKER_METRICS_PORT
    if not port:
        return
    from prometheus_client import start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


# -- the scrape --------------------------------------------------------------------------------


class DatabaseCollector(Collector):
    """Figures every web process reads alike from the database at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .models import JobHeartbeat, OutboxTask

        success = GaugeMetricFamily(
            "medbook_job_last_success_timestamp_seconds",
            "When each periodic job last succeeded (Unix time).",
            labels=["task"],
        )
        failure = GaugeMetricFamily(
            "medbook_job_last_failure_timestamp_seconds",
            "When each periodic job last failed (Unix time).",
            labels=["task"],
        )
        for row in JobHeartbeat.objects.all():
            if row.last_success_at:
                success.add_metric([row.task], row.last_success_at.timestamp())
            if row.last_failure_at:
                failure.add_metric([row.task], row.last_failure_at.timestamp())
        yield success
        yield failure
        unsent = OutboxTask.objects.filter(sent_at__isnull=True).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )
        backlog = GaugeMetricFamily(
            "medbook_outbox_unsent", "Promised jobs not yet handed to the broker."
        )
        backlog.add_metric([], unsent["n"])
        yield backlog
        age = GaugeMetricFamily(
            "medbook_outbox_oldest_unsent_seconds",
            "Age of the oldest promised job not yet handed to the broker (0: none).",
        )
        oldest = unsent["oldest"]
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Process())
    registry.register(DatabaseCollector())
    return registry


class _Process(Collector):
    """This process's own registry (one process: no shared folder)."""

    def collect(self):
        yield from REGISTRY.collect()


def _authorised(request: HttpRequest) -> bool:
    token = settings.MEDBOOK_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The scrape. Without the token (or with none configured) there is nothing here."""
    if not _authorised(request):
        raise Http404("no metrics here")
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
