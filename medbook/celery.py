"""The Celery application. Tasks live in each app's ``tasks.py``."""

import os

from celery import Celery
from celery.signals import worker_process_init

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
