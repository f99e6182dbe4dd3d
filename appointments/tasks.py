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
def send_release_reminders() -> int:
    """放号提醒: tell members a session they asked about is open to them (safe to run twice)."""
    count = services.send_release_reminders()
    if count:
        logger.info("Sent %d release reminders", count)
    return count


@shared_task
def copy_release_demand() -> int:
    """The release gate's counts of refusals "sold out", copied from Redis (safe to run twice)."""
    count = services.copy_release_demand()
    if count:
        logger.info("Copied the refusal counts of %d sessions", count)
    return count


@shared_task
def expire_waitlist_offer(entry_id: int) -> bool:
    """候补: one offer's own expiry, promised in the outbox with the offer (safe to run twice;
    early or late, it only closes an offer that has run out)."""
    return services.expire_offer(entry_id=entry_id)


@shared_task
def sweep_waitlist() -> int:
    """候补: offers that ran out pass on; entries of passed or cancelled sessions close."""
    count = services.sweep_waitlist()
    if count:
        logger.info("Closed %d waitlist entries or offers", count)
    return count
