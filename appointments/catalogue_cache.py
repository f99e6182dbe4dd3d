"""Cached hot reads of the public pages: the catalogue (departments, doctors, fees), a doctor's
public 14-day view with its availability counts, and the home page's "有号" counts.

Keys are versioned: each cached value's key holds the version numbers of what it was built
from, and every write that changes one of them bumps the number once the write has committed
(``transaction.on_commit``), so the next read misses and rebuilds from the database. Nothing is
deleted and no key is ever listed. Three kinds of versions, all in the shared cache (Redis):

- ``catalogue``: departments, doctors, their fees and activity (any save of a Department or a
  Doctor; a bulk change of sessions bumps it too, as "everything changed");
- ``doctor:<id>``: that doctor's sessions (a save of a Schedule, a booking, a cancellation, a
  no-show, a publication, the end-of-session sweep);
- ``availability``: any session of anyone (the home page's counts).

A miss is filled from the primary, never from the read replica (a lagging replica would put
back what the write just invalidated). The TTLs (``CATALOGUE_CACHE_SECONDS``, 60 s) are only a
safety net for a write that forgot to
say so. Counts that depend on the clock (a session opens at its release minute, closes at its
start) are keyed by the minute as well. What is cached only shows: the booking service locks
and reads the rows it decides on (appointments.services.booking), never this cache.

Off when ``CATALOGUE_CACHE`` is false (the benchmark's "without") and in the embedded default
without Redis: a local-memory cache is per process, so a worker's invalidation would not reach
the web server.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from medbook.db_router import primary_reads

from . import selectors
from .models import Department, Doctor, Schedule

T = TypeVar("T")

CATALOGUE = "catalogue"
AVAILABILITY = "availability"
_MISSING = "missing"  # a cached "no such doctor"


def enabled() -> bool:
    return settings.CATALOGUE_CACHE and "redis" in settings.CACHES


def _version_key(name: str) -> str:
    return f"cat:v:{name}"


def _versions(*names: str) -> str:
    """The current versions of ``names`` as one key part ("17.4"); a version not in the cache
    (never bumped, or evicted) starts at the clock in milliseconds, never at a number an older
    key may still carry."""
    keys = [_version_key(name) for name in names]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, time.time_ns() // 1_000_000, timeout=None)
            found[key] = cache.get(key)
    return ".".join(str(found[key]) for key in keys)


def _bump(names: Iterable[str]) -> None:
    for name in names:
        key = _version_key(name)
        try:
            cache.incr(key)
        except ValueError:  # not there: any new number makes every older key unreachable
            cache.set(key, time.time_ns() // 1_000_000, timeout=None)


@functools.cache
def _shape() -> str:
    """The cached models' columns, in every key: a release that adds or drops a column never
    unpickles rows cached by the previous one (both run side by side during a rollout)."""
    columns = [
        (model._meta.label, [field.attname for field in model._meta.concrete_fields])
        for model in (Department, Doctor, Schedule)
    ]
    return hashlib.sha256(repr(columns).encode()).hexdigest()[:8]


def _cached(key: str, build: Callable[[], T]) -> T:
    """The value under ``key``, built on a miss from the primary: a replica a moment behind
    would otherwise store what a write just invalidated, under the new version, until the TTL."""
    key = f"{key}:{_shape()}"
    value = cache.get(key)
    if value is None:
        with primary_reads():
            value = build()
        cache.set(key, value, timeout=settings.CATALOGUE_CACHE_SECONDS)
    return value


# -- invalidation (called by the writes; runs once they commit) --------------------------------


def catalogue_changed() -> None:
    """Departments, doctors or fees changed (or sessions in bulk): every cached page rebuilds."""
    transaction.on_commit(lambda: _bump([CATALOGUE, AVAILABILITY]))


def sessions_changed(*, doctor_ids: Iterable[int]) -> None:
    """Sessions of these doctors changed (status, capacity, fee, time, ``booked``)."""
    names = [f"doctor:{pk}" for pk in set(doctor_ids)] + [AVAILABILITY]
    transaction.on_commit(lambda: _bump(names))


def on_catalogue_saved(sender: type, instance: Department | Doctor, **kwargs: Any) -> None:
    catalogue_changed()


def on_schedule_saved(sender: type, instance: Schedule, **kwargs: Any) -> None:
    if instance.doctor_id is not None:
        sessions_changed(doctor_ids=[instance.doctor_id])


# -- the cached reads ----------------------------------------------------------------------------


def _minute(now: dt.datetime) -> str:
    return timezone.localtime(now).strftime("%Y%m%d%H%M")


def public_doctor(*, pk: int) -> Doctor | None:
    """:func:`appointments.selectors.public_doctor`, cached."""
    if not enabled():
        return selectors.public_doctor(pk=pk)
    key = f"cat:doctor:{pk}:{_versions(CATALOGUE)}"
    value = _cached(key, lambda: selectors.public_doctor(pk=pk) or _MISSING)
    return None if value == _MISSING else value


def schedules_for_doctor(*, doctor: Doctor, start: dt.date, days: int) -> list[Schedule]:
    """:func:`appointments.selectors.schedules_for_doctor` (the doctor's public sessions with
    their ``booked`` counts), cached; what a member may do with each is worked out per request
    from these rows and the clock (appointments.selectors.schedule_availability)."""
    if not enabled():
        return list(selectors.schedules_for_doctor(doctor=doctor, start=start, days=days))
    versions = _versions(CATALOGUE, f"doctor:{doctor.pk}")
    key = f"cat:sessions:{doctor.pk}:{start.isoformat()}:{days}:{versions}"
    return _cached(
        key, lambda: list(selectors.schedules_for_doctor(doctor=doctor, start=start, days=days))
    )


def departments_with_open_counts(*, now: dt.datetime) -> list[Department]:
    """The home page's department grid with its "有号" counts, cached for the minute."""
    if not enabled():
        return list(selectors.departments_with_open_counts(now=now))
    key = f"cat:departments:{_minute(now)}:{_versions(CATALOGUE, AVAILABILITY)}"
    return _cached(key, lambda: list(selectors.departments_with_open_counts(now=now)))


def catalogue_doctors(
    *, department: str, now: dt.datetime, open_within: int | None
) -> list[Doctor]:
    """The home page's doctors (of a department, only those with open sessions), cached for
    the minute; a search is not cached (too many keys, each asked rarely)."""
    if not enabled():
        return list(
            selectors.catalogue_doctors(department=department, now=now, open_within=open_within)
        )
    versions = _versions(CATALOGUE, AVAILABILITY)
    key = f"cat:doctors:{department}:{open_within}:{_minute(now)}:{versions}"
    return _cached(
        key,
        lambda: list(
            selectors.catalogue_doctors(department=department, now=now, open_within=open_within)
        ),
    )
