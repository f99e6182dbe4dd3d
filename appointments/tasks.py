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


@shared_task
def release_due_schedules() -> int:
    count = services.release_due_schedules()
    if count:
        logger.info("Released %d sessions", count)
    return count


@shared_task
def sweep_no_shows() -> int:
    count = services.sweep_no_shows()
    if count:
        logger.info("Marked %d appointments as no-show", count)
    return count


@shared_task
def send_visit_reminders() -> int:
    count = services.send_visit_reminders()
    if count:
        logger.info("Reminded %d members of tomorrow's appointments", count)
    return count


@shared_task
def copy_release_demand() -> int:
    """The release gate's counts of refusals "sold out", copied from Redis (safe to run twice)."""
    count = services.copy_release_demand()
    if count:
        logger.info("Copied the refusal counts of %d sessions", count)
    return count
