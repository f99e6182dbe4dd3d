"""The clinic's contact details: read (cached) for every page's footer, written by clinic admins.

Read on every page, so kept in the cache and dropped when saved; a page never waits on the
database for it more than once per ``CACHE_SECONDS``."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from . import audit
from .i18n import local_name
from .models import ClinicProfile

CACHE_KEY = "clinic-profile:v3"
CACHE_SECONDS = 300
# Shown in the reader's language: the English one on English pages when it is filled in.
BILINGUAL = ("name", "address", "hours")
FIELDS = (
    "name",
    "address",
    "phone",
    "hours",
    *(f"{field}_en" for field in BILINGUAL),
    "booking_requires_verified_patient",
)
DEFAULTS: dict[str, str | bool] = {
    **dict.fromkeys(FIELDS, ""),
    "booking_requires_verified_patient": False,
}


def clinic_profile() -> dict[str, str | bool]:
    """The clinic's details (empty strings for what is not filled in) and its settings."""
    found = cache.get(CACHE_KEY)
    if found is None:
        row = ClinicProfile.objects.filter(pk=1).values(*FIELDS).first()
        found = row or dict(DEFAULTS)
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return found


def local_clinic() -> dict[str, str | bool]:
    """The clinic's details as the reader should see them: name, address and hours in the
    active language (the Chinese ones where no English is given)."""
    profile = clinic_profile()
    return {
        **profile,
        **{field: local_name(profile[field], profile[f"{field}_en"]) for field in BILINGUAL},
    }


def booking_requires_verified_patient() -> bool:
    """实名制: the clinic books only patients whose real name is verified (cached like the rest
    of the profile, so the booking path does not ask the database for it)."""
    return bool(clinic_profile()["booking_requires_verified_patient"])


def update_clinic_profile(
    *, data: dict[str, str | bool], by, request: HttpRequest | None = None
) -> None:
    """Save the clinic's details that ``data`` gives (logged; the others stay as they are)
    and drop the cached copy once committed."""
    given = {k: data[k] for k in FIELDS if k in data}
    with transaction.atomic():
        ClinicProfile.objects.update_or_create(pk=1, defaults=given)
        audit.record(actor=by, action="clinic.update", detail=given, request=request)
        # Now (a read later in this transaction sees the new details) and once committed (a
        # reader elsewhere may have cached the old ones meanwhile).
        cache.delete(CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def context(request: HttpRequest) -> dict[str, object]:
    """Template context: ``clinic`` for the footer, the ticket and the refusal pages."""
    return {"clinic": local_clinic()}
