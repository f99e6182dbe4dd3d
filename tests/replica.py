"""A real PostgreSQL primary + streaming replica for the read/write split's tests, made the way
``dev.py cluster`` makes its own (initdb, pg_basebackup -R, pg_ctl; as the ``postgres`` user
when the tests run as root), tiny and with fsync off, in a temporary folder on free ports.

The primary gets the test database's schema and rows (pg_dump of the migrated test database,
a second, instead of migrating again); the fixture ``on_replica_cluster`` points Django's
``default`` alias at it and adds the ``replica`` alias, then puts everything back.

When it cannot be made (no PostgreSQL server binaries), the tests skip locally and fail in CI.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from django.core.cache import caches
from django.db import connections

from medbook import db_router

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("medbook_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    dev: ModuleType
    base: Path
    primary_port: int
    replica_port: int

    @property
    def primary(self) -> Path:
        return self.base / "primary"

    @property
    def replica(self) -> Path:
        return self.base / "replica"

    def sql(self, port: int, statement: str) -> str:
        return self.dev.pg_sql(port, statement, database="medbook")

    def stop_replica(self) -> None:
        self.dev.pg_stop(self.replica, mode="immediate")

    def start_replica(self) -> None:
        self.dev.pg_start(self.replica)
        self.dev.wait_streaming(self.replica_port)


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup, django_db_blocker) -> Iterator[Cluster]:
    dev = _dev()
    try:
        dev.pg_bin("initdb")
    except FileNotFoundError as exc:
        if IN_CI:
            pytest.fail(f"CI must run the replica tests: {exc}")
        pytest.skip(str(exc))
    base = Path(tempfile.mkdtemp(prefix="medbook-replica-"))
    base.chmod(0o755)  # the postgres user must reach its data folders inside
    cluster = Cluster(dev, base, _free_port(), _free_port())
    try:
        dev.pg_init_primary(cluster.primary, cluster.primary_port, fast=True)
        dev.pg_start(cluster.primary)
        dev.pg_sql(cluster.primary_port, "CREATE DATABASE medbook")
        with django_db_blocker.unblock():
            source = connections["default"].settings_dict
        dump = subprocess.run(
            [
                *(dev.pg_bin("pg_dump"), "-h", source["HOST"] or "127.0.0.1"),
                *("-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres"),
                *("--no-owner", "--no-privileges", source["NAME"]),
            ],
            capture_output=True,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
        )
        if dump.returncode != 0:
            raise RuntimeError(f"pg_dump of {source['NAME']} failed: {dump.stderr.decode()}")
        subprocess.run(
            [
                *(dev.pg_bin("psql"), "-h", "127.0.0.1", "-p", str(cluster.primary_port)),
                *("-U", "postgres", "-d", "medbook", "-XqAt", "-v", "ON_ERROR_STOP=1"),
            ],
            input=dump.stdout,
            capture_output=True,
            check=True,
        )
        dev.pg_make_replica(cluster.primary_port, cluster.replica, cluster.replica_port)
        cluster.start_replica()
    except Exception:
        dev.pg_stop(cluster.replica, mode="immediate")
        dev.pg_stop(cluster.primary, mode="immediate")
        shutil.rmtree(base, ignore_errors=True)
        raise
    yield cluster
    dev.pg_stop(cluster.replica, mode="immediate")
    dev.pg_stop(cluster.primary, mode="immediate")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def on_replica_cluster(
    streaming_replica: Cluster, django_db_blocker, settings
) -> Iterator[Cluster]:
    """Django's ``default`` on the cluster's primary and ``replica`` on its replica for one test
    (committed rows: the replica sees only what the primary committed)."""
    settings.REPLICA_MAX_LAG_SECONDS = 30  # a paused replay must not switch the replica off
    cluster = streaming_replica
    with django_db_blocker.unblock():
        connections.close_all()
        default = connections.settings["default"]
        saved = {key: default[key] for key in ("HOST", "PORT", "NAME")}
        _close_pool()
        default.update(HOST="127.0.0.1", PORT=str(cluster.primary_port), NAME="medbook")
        replica = {
            **default,
            "ENGINE": "django.db.backends.postgresql",
            "PORT": str(cluster.replica_port),
            "OPTIONS": {"connect_timeout": 1},
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": False,
        }
        connections.settings[db_router.REPLICA] = replica
        db_router.state.reset()
        # Another database now: logins and pages cached from the test database (the same ids,
        # other rows) must not answer for the cluster's.
        for alias in settings.CACHES:
            caches[alias].clear()
        try:
            yield cluster
        finally:
            connections.close_all()
            _close_pool()
            if hasattr(connections._connections, db_router.REPLICA):
                del connections[db_router.REPLICA]
            del connections.settings[db_router.REPLICA]
            default.update(saved)
            db_router.state.reset()


def _close_pool() -> None:
    connection = connections["default"]
    if hasattr(connection, "close_pool"):
        connection.close_pool()
