"""gunicorn settings for production: ``gunicorn -c python:medbook.gunicorn_conf medbook.wsgi``.

The access log never holds a query string (nor a referrer's or a redirect's): addresses may
carry search words, tokens or, from an old bookmark, a phone number. Everything else is
gunicorn's default (override on the command line, e.g. ``--workers 4 --bind 0.0.0.0:8000``).
"""

from __future__ import annotations

import datetime as dt
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Chosen with the morning-release benchmark (bench/README.md, "gunicorn settings"): sync workers,
# one more than the cores. On 2 cores 2, 3, 4 and 6 sync workers served the rush alike (within
# the runs' noise), 3 threaded workers with 4 threads each (gthread) half as many winners a
# second: every request is CPU work under one interpreter lock. A slow client is the load
# balancer's to buffer (nginx in front), so no keep-alive here; the listen queue holds a
# burst of 2,048 connections (the kernel's somaxconn must allow it).
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
worker_class = "medbook.gunicorn_worker.SyncWorker"  # sync, on a roomy stack
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# SIGTERM (a rollout, a scale-down): stop accepting, let each worker finish its request, then
# exit; a worker still busy after this many seconds is killed (keep it under the orchestrator's
# terminationGracePeriodSeconds).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = "-"
logger_class = "medbook.gunicorn_conf.QuerylessAccessLogger"

# The atoms (of gunicorn's access_log_format) that may hold an address with a query string.
_URL_ATOMS = (
    "f",
    "{referer}i",
    "{location}o",
    "{raw_uri}e",
    "{request_uri}e",
    "{http_referer}e",
)
_QUERY_ATOMS = ("q", "{query_string}e")


def without_query(address: str | None) -> str | None:
    """``/staff/members/?q=138…`` → ``/staff/members/?…``: the path stays, its query goes."""
    if not isinstance(address, str) or "?" not in address:
        return address
    return address.split("?", 1)[0] + "?…"


class QuerylessAccessLogger(Logger):
    """gunicorn's logger with every query string left out of the access log."""

    def atoms(self, resp: object, req: object, environ: dict, request_time: dt.timedelta) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "{} {} {}".format(
            environ.get("REQUEST_METHOD", "-"),
            without_query(environ.get("RAW_URI") or environ.get("PATH_INFO", "")),
            environ.get("SERVER_PROTOCOL", "-"),
        )
        for key in _URL_ATOMS:
            if key in atoms:
                atoms[key] = without_query(atoms[key])
        for key in _QUERY_ATOMS:
            if atoms.get(key):
                atoms[key] = "…"
        return atoms


def child_exit(server: object, worker: object) -> None:
    """A worker that ends hands back its live gauges (prometheus_client's multiprocess mode,
    when ``PROMETHEUS_MULTIPROC_DIR`` is set: medbook/metrics.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
