"""Plumbing only: a session saved as a whole (Django admin, a service's ``save()``) may have a
new capacity or status, so the release gate forgets its stock once the change is committed and
the next booking attempt rebuilds it from PostgreSQL. Bookings move ``booked`` with an UPDATE,
which sends no signal: they keep the stock the gate counts itself."""

from __future__ import annotations

from django.db import transaction

from . import gate
from .models import Schedule


def forget_stock(sender: type[Schedule], instance: Schedule, **kwargs: object) -> None:
    if instance.pk is not None:
        pk = instance.pk
        transaction.on_commit(lambda: gate.forget(schedule_id=pk))
