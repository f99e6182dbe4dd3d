"""``manage.py listen_outbox``: the outbox listener as a process of its own (each Celery worker
runs one already; see medbook.outbox_listener)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from medbook.outbox_listener import listen


class Command(BaseCommand):
    help = "Hand promised jobs to the broker as their transactions commit (until stopped)."

    def handle(self, *args: object, **options: object) -> None:
        if connections["default"].vendor != "postgresql":
            raise CommandError("The outbox listener needs PostgreSQL (the relay serves SQLite).")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("Listening for promised jobs; Ctrl-C to stop.")
        listen(stop)
