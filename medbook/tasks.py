"""Background jobs of MedBook's cross-cutting parts."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import caches

from . import outbox

logger = logging.getLogger(__name__)


@shared_task
def relay_outbox() -> int:
    """Hand promised jobs to the broker that were not handed over after their commit."""
    count = outbox.relay()
    if count:
        logger.info("Relayed %d promised jobs from the outbox", count)
    outbox.purge_sent()
    if "database" in settings.CACHES:  # the Redis stand-in (medbook.cache): forget old entries
        caches["database"].purge_expired()
    return count
