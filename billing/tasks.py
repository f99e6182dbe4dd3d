"""Periodic jobs of billing; thin calls into services."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def expire_unpaid_orders() -> int:
    count = services.expire_unpaid_orders()
    if count:
        logger.info("Closed %d unpaid orders whose hold ran out", count)
    return count
