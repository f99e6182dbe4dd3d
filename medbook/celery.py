"""The Celery application. Tasks live in each app's ``tasks.py``."""

import os

from celery import Celery, bootsteps
from celery.signals import setup_logging, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")

app = Celery("medbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Pools inherited through fork() share their sockets with the parent process: they are kept
# referenced (closing them would end the parent's sessions) and never used again.
_inherited_pools: list[object] = []


@worker_process_init.connect
def _forget_inherited_database_pools(**_: object) -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    _inherited_pools.extend(DatabaseWrapper._connection_pools.values())
    DatabaseWrapper._connection_pools.clear()


@setup_logging.connect
def _log_as_the_web_processes_do(loglevel: int | None = None, **_: object) -> None:
    """The worker and beat log through Django's ``LOGGING``, as the web processes do (same
    format, personal data masked), at the level asked for (``--loglevel``): Celery's own set-up
    would replace the handlers with its own and drop the texts sent (``medbook.sms``, kept at
    INFO in ``LOGGING``), so the demo's output would show the sign-up code the web process
    texts but none of the worker's cancellations, refunds, suspensions and reminders."""
    import logging
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


class OutboxListener(bootsteps.StartStopStep):
    """Each worker listens for promised jobs committed with a notification (the express
    booking's: medbook.outbox_listener) and hands them to the broker at once."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker: object, **kwargs: object) -> None:
        super().__init__(worker, **kwargs)
        self.thread = None

    def start(self, worker: object) -> None:
        from django.db import connections

        if connections["default"].vendor != "postgresql":
            return  # no notifications: the relay hands every row over
        from .outbox_listener import ListenerThread

        self.thread = ListenerThread()
        self.thread.start()

    def stop(self, worker: object) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None


app.steps["worker"].add(OutboxListener)
