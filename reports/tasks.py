"""The reports' background jobs: thin calls into the services."""

from __future__ import annotations

import logging

from celery import shared_task

from . import exports, services

logger = logging.getLogger(__name__)


@shared_task
def refresh_report_rollups() -> tuple[str, str]:
    """Recompute the recent days' figures (safe to run twice, or beside a rebuild)."""
    result = services.refresh_recent_rollups()
    logger.info(
        "Report figures of %s..%s rebuilt: %d session rows, %d booking rows, %d revenue rows, "
        "%d payer rows, %d member rows",
        result.first_day,
        result.last_day,
        result.session_rows,
        result.booking_rows,
        result.revenue_rows,
        result.payer_rows,
        result.member_rows,
    )
    return result.first_day.isoformat(), result.last_day.isoformat()


@shared_task
def run_export(export_id: int) -> None:
    """Write one export (promised through the outbox; a second delivery does nothing)."""
    exports.run_export(export_id=export_id)


@shared_task
def sweep_exports() -> None:
    """Delete expired exports; queue again those whose worker died (every minute)."""
    result = exports.sweep_exports()
    if result.deleted or result.requeued or result.failed:
        logger.info(
            "Exports: %d expired deleted, %d queued again, %d given up",
            result.deleted,
            result.requeued,
            result.failed,
        )
