"""The dashboards' exports (CSV, XLSX): asked for on a page, written by a Celery job.

The promise is kept as the design's invariant 6 asks: the request writes the ``Export`` row
and its job (``medbook.outbox``) in one transaction, so an export asked for while the broker is
down is relayed once it is back. A worker claims the row with a conditional UPDATE (a second
delivery of the job finds nothing to claim) and shows it is alive with every progress update;
a worker that died (or a message the broker lost) leaves a row whose heartbeat goes stale, and
the sweep (``sweep_exports``, every minute) queues it again, at most ``MAX_ATTEMPTS`` times.
Only the run holding the claim may move the row on, so a slow run that was given up on cannot
overwrite the one that replaced it.

The file is written to a temporary folder and then saved through the ``exports`` storage
(settings.STORAGES), which every web process reads; it and the row are deleted after
``MEDBOOK_EXPORT_KEEP_HOURS``. Each finished (or failed) export is written to the operation
log with its filters and row count; each download too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.choices import Channel
from medbook import audit, outbox
from medbook.errors import Forbidden, NotFound
from medbook.models import Outcome

from .choices import ExportFormat, ExportKind, ExportStatus
from .dashboards import BY_SLUG, Dashboard
from .exceptions import ExportFailed, NoDetail
from .forms import BookingFilterForm
from .models import Export
from .selectors import BookingFilters
from .writers import Cover, rows_csv, rows_xlsx, tables_csv_zip, tables_xlsx

logger = logging.getLogger(__name__)

TASK = "reports.tasks.run_export"
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
# A running export whose worker gave no sign of life for this long is taken to be lost.
LEASE = dt.timedelta(minutes=2)
# A queued export no worker has started for this long is promised again (a lost message).
REQUEUE_AFTER = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 3
# How often a run writes its progress (and heartbeat) at most.
PROGRESS_SECONDS = 0.5


def storage():
    return storages["exports"]


def keep() -> dt.timedelta:
    return dt.timedelta(hours=settings.MEDBOOK_EXPORT_KEEP_HOURS)


def fingerprint(filters: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()


def may_unmask(user) -> bool:
    """Staff whose role may see personal data in full get it unmasked in their exports
    (clinic admins); everyone else (finance) gets names and numbers masked."""
    return user.has_perm("members.view_personal_data")


@transaction.atomic
def request_export(
    *,
    by,
    dashboard: Dashboard,
    kind: str,
    export_format: str,
    filters: dict[str, str],
    filter_names: dict[str, str],
    language: str,
    now: dt.datetime | None = None,
) -> tuple[Export, bool]:
    """Ask for an export of ``dashboard`` with ``filters`` (a validated filter form's
    ``export_data()``); its job is promised in the same transaction. The same export asked for
    again while the first is still on its way (a double click) is that first one: returns
    (export, created)."""
    if not by.has_perm("reports.view_reports"):
        raise Forbidden()
    if kind == ExportKind.APPOINTMENTS and dashboard.detail is None:
        raise NoDetail()
    now = now or timezone.now()
    key = fingerprint(filters)
    same = Export.objects.filter(
        requester=by,
        dashboard=dashboard.slug,
        kind=kind,
        format=export_format,
        fingerprint=key,
        status__in=ACTIVE,
    )
    existing = same.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            export = Export.objects.create(
                token=secrets.token_urlsafe(32),
                requester=by,
                dashboard=dashboard.slug,
                kind=kind,
                format=export_format,
                filters=filters,
                filter_names=filter_names,
                fingerprint=key,
                language=language,
                masked=not may_unmask(by),
                created_at=now,
                heartbeat_at=now,
                expires_at=now + keep(),
            )
    except IntegrityError:  # the other click committed first: that one it is
        return same.get(), False
    outbox.enqueue(TASK, export.pk)
    return export, True


class Superseded(Exception):
    """This run no longer holds the export's claim (the sweep gave it to another run)."""


class _Run:
    """One claimed run of an export: its progress and heartbeat, only while it holds the
    claim."""

    def __init__(self, export: Export, claim: str) -> None:
        self.export = export
        self.claim = claim
        self.written_at = 0.0

    def mine(self):
        return Export.objects.filter(
            pk=self.export.pk, claim=self.claim, status=ExportStatus.RUNNING
        )

    def progress(self, percent: int, rows: int, *, force: bool = False) -> None:
        clock = time.monotonic()
        if not force and clock - self.written_at < PROGRESS_SECONDS:
            return
        self.written_at = clock
        percent = max(0, min(99, percent))
        if not self.mine().update(progress=percent, row_count=rows, heartbeat_at=timezone.now()):
            raise Superseded()


def stored_filters(export: Export) -> BookingFilters:
    """The export's filters, checked again (a department, doctor or level may be gone)."""
    form = BookingFilterForm(
        QueryDict(urlencode(export.filters)), today=timezone.localdate(export.created_at)
    )
    if not form.is_valid():
        raise ExportFailed(
            _(
                "The filters no longer fit the clinic's data (a department, doctor or level was "
                "removed). Open the dashboard again and export from there."
            )
        )
    return form.filters()


def _cover(export: Export, spec: Dashboard, filters: BookingFilters, now: dt.datetime) -> Cover:
    names = export.filter_names
    channel = dict(Channel.choices).get(filters.channel)
    content = str(ExportKind(export.kind).label)
    if export.kind == ExportKind.APPOINTMENTS and spec.detail is not None:
        content = str(spec.detail.title)
    return Cover(
        title=f"{spec.title} · {content}",
        lines=[
            (_("Dashboard"), str(spec.title)),
            (_("Content"), content),
            (_("Period"), f"{filters.start:%Y-%m-%d} – {filters.end:%Y-%m-%d}"),
            (_("Department"), names.get("department") or _("All departments")),
            (_("Doctor"), names.get("doctor") or _("All doctors")),
            (_("Member level"), names.get("level") or _("All levels")),
            (_("Channel"), str(channel) if channel else _("All channels")),
            (
                _("Personal data"),
                _("Masked (张**, 138****1234)") if export.masked else _("In full"),
            ),
            (_("Generated at"), timezone.localtime(now).strftime("%Y-%m-%d %H:%M")),
            (_("Requested by"), export.requester.get_username()),
        ],
    )


def _names(export: Export, spec: Dashboard, filters: BookingFilters) -> tuple[str, str]:
    """(storage name, the name the browser saves it under)."""
    extension = "zip" if (export.kind, export.format) == ("tables", "csv") else export.format
    period = f"{filters.start:%Y%m%d}-{filters.end:%Y%m%d}"
    title = str(spec.title)
    if export.kind == ExportKind.APPOINTMENTS and spec.detail is not None:
        title = f"{title}_{spec.detail.title}"
    shown = f"{title}_{filters.start:%Y-%m-%d}_{filters.end:%Y-%m-%d}.{extension}"
    for bad in '/\\:*?"<>|':
        shown = shown.replace(bad, " ")
    # Flat names (no folder per export): nothing is left behind when the file is deleted.
    return f"{export.token}_{export.dashboard}-{export.kind}-{period}.{extension}", shown


def _write(export: Export, spec: Dashboard, run: _Run, path: Path, now: dt.datetime) -> int:
    """Write the file at ``path``; returns its data rows."""
    filters = stored_filters(export)
    cover = _cover(export, spec, filters, now)
    xlsx = export.format == ExportFormat.XLSX
    if export.kind == ExportKind.TABLES:
        page = spec.build(filters, timezone.localdate(export.created_at))
        tables = list(page.tables.values())
        run.progress(10, 0, force=True)
        write = tables_xlsx if xlsx else tables_csv_zip
        write(
            path,
            cover=cover,
            headline=page.headline,
            tables=tables,
            progress=lambda share: run.progress(10 + int(85 * share), 0),
        )
        return sum(len(table.rows) for table in tables)
    detail = spec.detail
    if detail is None:
        raise NoDetail()
    total = detail.count(filters)
    run.progress(1, 0, force=True)

    def progress(rows: int) -> None:
        run.progress(1 + (98 * rows // total if total else 98), rows)

    chunks = detail.chunks(filters, export.masked)
    if xlsx:
        return rows_xlsx(
            path,
            cover=cover,
            title=str(detail.title),
            columns=detail.columns(),
            chunks=chunks,
            sheet_rows=settings.MEDBOOK_EXPORT_SHEET_ROWS,
            progress=progress,
        )
    return rows_csv(path, columns=detail.columns(), chunks=chunks, progress=progress)


def _log_detail(export: Export, rows: int) -> dict:
    return {
        "dashboard": export.dashboard,
        "content": export.kind,
        "format": export.format,
        "filters": export.filters,
        "rows": rows,
        "masked": export.masked,
    }


def run_export(*, export_id: int) -> Export | None:
    """Write export ``export_id`` if it is waiting (the job; safe to run twice: the second
    finds it claimed or done and returns None)."""
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING,
        claim=claim,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=now,
        progress=0,
        row_count=0,
        error="",
    )
    if not claimed:
        return None
    export = Export.objects.select_related("requester").get(pk=export_id)
    run = _Run(export, claim)
    name = ""
    try:
        spec = BY_SLUG.get(export.dashboard)
        if spec is None:
            raise ExportFailed(_("This dashboard no longer exists."))
        with (
            translation.override(export.language),
            tempfile.TemporaryDirectory(prefix="medbook-export-") as folder,
        ):
            path = Path(folder) / "export"
            rows = _write(export, spec, run, path, now)
            name, shown = _names(export, spec, stored_filters(export))
            size = path.stat().st_size
            with path.open("rb") as content:
                name = storage().save(name, File(content))
        return _finish(export, claim, name=name, shown=shown, size=size, rows=rows)
    except Superseded:
        logger.info("Export %s was given to another run; this one stops", export_id)
        if name:
            storage().delete(name)
        return None
    except Exception as exc:
        if name:
            storage().delete(name)
        if isinstance(exc, ExportFailed):
            message = exc.message
        else:
            logger.exception("Export %s failed", export_id)
            message = _(
                "The export could not be written. Please try again; if it fails again, "
                "tell the administrator."
            )
        _fail(export, claim, message)
        return None


def _finish(export: Export, claim: str, *, name: str, shown: str, size: int, rows: int):
    now = timezone.now()
    with transaction.atomic():
        done = Export.objects.filter(pk=export.pk, claim=claim, status=ExportStatus.RUNNING).update(
            status=ExportStatus.DONE,
            progress=100,
            row_count=rows,
            file=name,
            file_name=shown,
            size=size,
            finished_at=now,
            heartbeat_at=now,
            expires_at=now + keep(),
        )
        if done:
            audit.record(
                actor=export.requester,
                action="reports.export",
                target=export,
                detail=_log_detail(export, rows),
            )
    if not done:
        storage().delete(name)
        return None
    export.refresh_from_db()
    return export


def _fail(export: Export, claim: str, message: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        failed = Export.objects.filter(
            pk=export.pk, claim=claim, status=ExportStatus.RUNNING
        ).update(status=ExportStatus.FAILED, error=message[:300], finished_at=now, heartbeat_at=now)
        if failed:
            audit.record(
                actor=export.requester,
                action="reports.export",
                target=export,
                reason=message[:200],
                outcome=Outcome.FAILURE,
                detail=_log_detail(export, 0),
            )


@dataclass(frozen=True)
class SweepResult:
    deleted: int
    requeued: int
    failed: int


def sweep_exports(*, now: dt.datetime | None = None, batch: int = 200) -> SweepResult:
    """The periodic job: delete expired exports (file, then row); queue again the runs whose
    worker died (stale heartbeat) and the waiting ones whose job was lost; give up on an export
    after ``MAX_ATTEMPTS`` runs."""
    now = now or timezone.now()
    deleted = requeued = failed = 0
    files = storage()
    while True:
        expired = list(Export.objects.filter(expires_at__lte=now).values_list("pk", "file")[:batch])
        if not expired:
            break
        for pk, name in expired:
            if name:
                try:
                    files.delete(name)
                except OSError as exc:  # gone already, or the storage refused: the row goes
                    logger.warning("Export %s: its file %s was not deleted: %s", pk, name, exc)
            deleted += Export.objects.filter(pk=pk).delete()[0]
    lost = Export.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=now - LEASE)
    for pk, claim, attempts in lost.values_list("pk", "claim", "attempts"):
        with transaction.atomic():
            mine = Export.objects.filter(pk=pk, claim=claim, status=ExportStatus.RUNNING)
            if attempts >= MAX_ATTEMPTS:
                export = Export.objects.select_related("requester").get(pk=pk)
                _fail(
                    export,
                    claim,
                    _(
                        "The export was interrupted %(times)d times and was given up. Please try "
                        "a shorter period."
                    )
                    % {"times": attempts},
                )
                failed += 1
            elif mine.update(status=ExportStatus.QUEUED, heartbeat_at=now, progress=0):
                outbox.enqueue(TASK, pk)
                requeued += 1
    forgotten = Export.objects.filter(
        status=ExportStatus.QUEUED, heartbeat_at__lt=now - REQUEUE_AFTER
    )
    for pk, beat in forgotten.values_list("pk", "heartbeat_at"):
        with transaction.atomic():
            if Export.objects.filter(pk=pk, status=ExportStatus.QUEUED, heartbeat_at=beat).update(
                heartbeat_at=now
            ):
                outbox.enqueue(TASK, pk)
                requeued += 1
    return SweepResult(deleted=deleted, requeued=requeued, failed=failed)


def open_for_download(*, export: Export, by, request: HttpRequest | None = None):
    """The export's file, opened for reading; the download is written to the operation log.
    A file gone from the storage (removed by hand, a volume not shared) is not found."""
    try:
        content = storage().open(export.file.name, "rb")
    except OSError as exc:
        logger.warning("Export %s: its file %s cannot be read: %s", export.pk, export.file, exc)
        raise NotFound() from exc
    audit.record(
        actor=by,
        action="reports.export_download",
        target=export,
        detail={"dashboard": export.dashboard, "rows": export.row_count, "masked": export.masked},
        request=request,
    )
    return content
