"""Background jobs of MedBook's cross-cutting parts."""

import logging

from celery import shared_task

from . import outbox

logger = logging.getLogger(__name__)


@shared_task
def relay_outbox() -> int:
    """Hand promised jobs to the broker that were not handed over after their commit."""
    count = outbox.relay()
    if count:
        logger.info("Relayed %d promised jobs from the outbox", count)
    outbox.purge_sent()
    return count
