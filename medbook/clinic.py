"""The clinic's contact details: read (cached) for every page's footer, written by clinic admins.

Read on every page, so kept in the cache and dropped when saved; a page never waits on the
database for it more than once per ``CACHE_SECONDS``."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from . import audit
from .models import ClinicProfile

CACHE_KEY = "clinic-profile:v1"
CACHE_SECONDS = 300
FIELDS = ("name", "address", "phone", "hours")


def clinic_profile() -> dict[str, str]:
    """The clinic's details (empty strings for what is not filled in)."""
    found = cache.get(CACHE_KEY)
    if found is None:
        row = ClinicProfile.objects.filter(pk=1).values(*FIELDS).first()
        found = row or dict.fromkeys(FIELDS, "")
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return found


def update_clinic_profile(*, data: dict[str, str], by, request: HttpRequest | None = None) -> None:
    """Save the clinic's details (logged) and drop the cached copy once committed."""
    with transaction.atomic():
        ClinicProfile.objects.update_or_create(pk=1, defaults={k: data[k] for k in FIELDS})
        audit.record(
            actor=by, action="clinic.update", detail={k: data[k] for k in FIELDS}, request=request
        )
        transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def context(request: HttpRequest) -> dict[str, object]:
    """Template context: ``clinic`` for the footer, the ticket and the refusal pages."""
    return {"clinic": clinic_profile()}
