"""Background jobs of the members app: delivering in-app messages by text and e-mail."""

import logging

from celery import shared_task

from . import delivery

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(Exception,), retry_backoff=10, retry_backoff_max=600, max_retries=8)
def deliver_message(message_id: int) -> None:
    delivery.deliver_message(message_id=message_id)


@shared_task
def deliver_pending_messages() -> int:
    """Queue again the last day's messages whose text or e-mail has not gone out (every 5 min)."""
    count = 0
    for batch in delivery.pending_message_batches():
        for message_id in batch:
            deliver_message.delay(message_id)
        count += len(batch)
    if count:
        logger.info("Queued %d messages for delivery again", count)
    return count


@shared_task
def expire_unverified_signups() -> int:
    """Delete sign-ups whose number was never confirmed, past their time (every 10 min)."""
    from . import unverified

    count = unverified.expire_unverified_signups()
    if count:
        logger.info("Deleted %d unconfirmed sign-ups", count)
    return count
