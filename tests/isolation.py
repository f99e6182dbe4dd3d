"""Each pytest-xdist worker gets services of its own (loaded with ``-p tests.isolation``).

pytest-django gives each worker its own test database (``test_<name>_gw0``, ``_gw1`` …). What it
does not split is set here, in the environment, before Django reads its settings (and before the
fault harness or a test reads ``REDIS_URL``; subprocesses inherit it):

* ``REDIS_URL``: the worker's own Redis database, counted down from the one given: gw0 uses it,
  gw1 the one below, … (db 15 → 15, 14, 13, …). Tests empty the cache with ``cache.clear()``,
  which is a FLUSHDB: a shared database would lose another worker's keys mid-test.
* ``CELERY_QUEUE``: ``<CELERY_QUEUE or "celery">-gw0`` …, so jobs a real worker queues on
  RabbitMQ stay in the queue of the run that queued them.
* ``CELERY_WORKER_HOSTNAME`` (with or without xdist): a node name of this process's own for the
  Celery workers the tests start.

Ports (live servers, fault proxies) come from the OS per bind; the fault harness picks gunicorn's
port from a per-worker range (``worker_port``). Temporary folders (``tmp_path``) are per worker
already. Without xdist only the Celery node name is set.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse, urlunparse

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def worker_index() -> int:
    """0 for gw0 … and for a run without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else 0


def redis_url_for_worker(url: str, index: int) -> str:
    parsed = urlparse(url)
    base = int(parsed.path.strip("/") or 0)
    if base - index < 0:
        raise pytest.UsageError(
            f"REDIS_URL {url}: xdist worker gw{index} would need Redis database {base - index}; "
            "workers count down from the given database, so give a higher one or fewer workers."
        )
    return urlunparse(parsed._replace(path=f"/{base - index}"))


def _ini_default(config: pytest.Config, name: str) -> str | None:
    """A ``D:NAME=value`` default of pytest-env's ``env`` list, in case it has not run yet."""
    for line in config.getini("env") or []:
        key, _, value = str(line).partition("=")
        if key.split(":")[-1].strip() == name:
            return value.strip()
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # The node name of the Celery workers the tests start (celery's CLI reads it from here):
    # two workers named celery@<host> on one RabbitMQ, of two xdist workers or two runs, fight
    # over one exclusive pidbox queue and the second dies (RESOURCE_LOCKED).
    # xdist's workers inherit the controller's name and add their own id to it.
    os.environ.setdefault("CELERY_WORKER_HOSTNAME", f"medbook-test-{uuid.uuid4().hex[:8]}@%h")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    node, _, host = os.environ["CELERY_WORKER_HOSTNAME"].partition("@")
    os.environ["CELERY_WORKER_HOSTNAME"] = f"{node}-{worker}@{host or '%h'}"
    redis_url = (
        os.environ.get("REDIS_URL") or _ini_default(early_config, "REDIS_URL") or DEFAULT_REDIS_URL
    )
    os.environ["REDIS_URL"] = redis_url_for_worker(redis_url, worker_index())
    os.environ["CELERY_QUEUE"] = f"{os.environ.get('CELERY_QUEUE') or 'celery'}-{worker}"


#: Tests that share one xdist worker and run one after another there, by node id prefix.
#: (xdist's own ``xdist_group`` mark does nothing under pytest 9: it renames ``item._nodeid``,
#: which pytest no longer reads; so the groups are given to the scheduler here.)
GROUPS = {
    # Outage experiments time their answers (p95, max): one at a time, never two measuring each
    # other's load. And the tests that open many PostgreSQL connections at once (threads,
    # processes; ~60 for one concurrency test, where the server allows 100 for everybody).
    "postgres-heavy": (
        "tests/faults/",
        "tests/appointments/test_concurrency.py",
        "tests/appointments/test_threads_any_database.py",
        "tests/billing/test_payment_races.py",
        "tests/test_outbox_concurrency.py",
        "tests/billing/test_suspension.py::test_two_suspensions_at_once",
        "tests/billing/test_refunds.py::test_concurrent_refund_requests",
        "tests/billing/test_notifications.py::test_the_same_notification_delivered_five_times",
        "tests/test_cache_failover.py::test_counters_stay_exact_across_threads",
        "tests/security/test_abuse_limits.py::test_failed_logins_from_two_processes",
        # gunicorn under a burst of 200 booking POSTs at once: it times what it measures.
        "tests/test_release_http_bench.py",
        "tests/test_login_http_bench.py",  # gunicorn hashing passwords for the login bench
        "tests/portal/test_release_gate.py::test_members_rushing",
    ),
    # One var/ folder for the module: the first start migrates and seeds it, the others reuse it.
    "dev-run": ("tests/test_dev_run.py",),
}

#: Long single tests handed out first, so that none starts last and ends the run alone (the
#: groups are handed out first, largest first, then single tests in collection order).
LONG_FIRST = (
    "tests/test_demo_soak.py",
    "tests/test_celery_rabbitmq.py",
    "tests/browser/",
    "tests/portal/test_query_counts.py",
)


def group_of(nodeid: str) -> str | None:
    return next((g for g, prefixes in GROUPS.items() if nodeid.startswith(prefixes)), None)


def _prefix_rank(nodeid: str, prefixes: tuple[str, ...]) -> int:
    ranks = (i for i, prefix in enumerate(prefixes) if nodeid.startswith(prefix))
    return next(ranks, len(prefixes))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup`` with the groups above: each group is one unit of work."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        # The whole suite: a group entry that matches no test (renamed, moved) would silently
        # let that test run beside the others again.
        ids = [item.nodeid for item in items]
        stale = [
            prefix
            for group in GROUPS.values()
            for prefix in group
            if not any(nodeid.startswith(prefix) for nodeid in ids)
        ]
        if stale:
            raise pytest.UsageError(f"tests/isolation.py GROUPS names no test any more: {stale}")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Stable: every worker gets the same order, as xdist requires.
        items.sort(key=lambda item: _prefix_rank(item.nodeid, LONG_FIRST))


def worker_port() -> int:
    """A free port in this worker's own range, below the OS's ephemeral ports (32768 and up),
    so a port chosen here and bound a moment later is never one the OS hands out meanwhile or
    another worker chooses."""
    import random
    import socket

    low = 20000 + 1000 * worker_index()
    for port in random.sample(range(low, low + 1000), 1000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}–{low + 999}")
