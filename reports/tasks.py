"""The reports' periodic job: a thin call into the service."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def refresh_report_rollups() -> tuple[str, str]:
    """Recompute the recent days' figures (safe to run twice, or beside a rebuild)."""
    result = services.refresh_recent_rollups()
    logger.info(
        "Report figures of %s..%s rebuilt: %d session rows, %d booking rows, %d member rows",
        result.first_day,
        result.last_day,
        result.session_rows,
        result.booking_rows,
        result.member_rows,
    )
    return result.first_day.isoformat(), result.last_day.isoformat()
