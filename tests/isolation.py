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


#: One xdist group, one worker, one test at a time (``--dist loadgroup``): the tests that open
#: many PostgreSQL connections (threads, processes, gunicorn and Celery pools: up to ~60 for one
#: concurrency test; the server allows 100 for everybody) and the outage experiments, which time
#: their answers (p95, max) and must not measure each other's load. That is every test marked
#: ``django_db(transaction=True)`` (real threads, processes and committed data) except the ones
#: below, which only need committed data for one live server or Celery worker.
HEAVY = "postgres-heavy"
TRANSACTIONAL_BUT_LIGHT = ("tests/browser/", "tests/test_celery_rabbitmq.py")

#: Groups by path.
GROUPS = {
    "tests/faults/": HEAVY,
    # One var/ folder for the module: the first start migrates and seeds it, the others reuse it.
    "tests/test_dev_run.py": "dev-run",
}


def _transactional(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("django_db")
    return bool(mark and (mark.kwargs.get("transaction") or (mark.args and mark.args[0])))


#: Long single tests handed out first, so that none starts last and ends the run alone (xdist
#: hands out the groups first, largest first, then single tests in collection order).
LONG_FIRST = (
    "tests/test_demo_soak.py",
    "tests/test_celery_rabbitmq.py",
    "tests/browser/",
    "tests/portal/test_query_counts.py",
)


def _prefix_rank(nodeid: str, prefixes: tuple[str, ...]) -> int:
    ranks = (i for i, prefix in enumerate(prefixes) if nodeid.startswith(prefix))
    return next(ranks, len(prefixes))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        group = next((g for prefix, g in GROUPS.items() if item.nodeid.startswith(prefix)), None)
        if group is None and _transactional(item):
            group = None if item.nodeid.startswith(TRANSACTIONAL_BUT_LIGHT) else HEAVY
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
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
