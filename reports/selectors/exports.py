"""Reads of the exports: a login's recent exports, and one export as far as a login may see it
(its requester, or staff who may download anyone's; personal data in full only for those who
may see it). Anyone else is told there is no such export (404), whatever the token."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from medbook.errors import NotFound

from ..choices import ExportStatus
from ..models import Export

RECENT = 30


def recent_exports(*, user, now: dt.datetime | None = None) -> QuerySet[Export]:
    """The login's own exports not yet expired, newest first."""
    now = now or timezone.now()
    return Export.objects.filter(requester=user, expires_at__gt=now).order_by("-created_at", "-id")[
        :RECENT
    ]


def export_for(*, user, token: str, now: dt.datetime | None = None) -> Export:
    """The export ``token`` if ``user`` may see it, else :class:`NotFound`."""
    now = now or timezone.now()
    rows = Export.objects.select_related("requester").filter(token=token, expires_at__gt=now)
    if not user.has_perm("reports.download_any_export"):
        rows = rows.filter(requester_id=user.pk)
    export = rows.first()
    if export is None or (not export.masked and not user.has_perm("members.view_personal_data")):
        raise NotFound()
    return export


def downloadable_export(*, user, token: str, now: dt.datetime | None = None) -> Export:
    """As :func:`export_for`, and its file is ready."""
    export = export_for(user=user, token=token, now=now)
    if export.status != ExportStatus.DONE or not export.file:
        raise NotFound()
    return export
