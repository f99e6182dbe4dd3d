"""Periodic jobs of the appointments app; each is a thin call into a service."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def finish_past_schedules() -> int:
    count = services.finish_past_schedules()
    if count:
        logger.info("Marked %d ended schedules as finished", count)
    return count
