"""Periodic jobs of billing; thin calls into services."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from . import sandbox, services, settlement
from .gateways import GatewayError

logger = logging.getLogger(__name__)


@shared_task
def expire_unpaid_orders() -> int:
    count = services.expire_unpaid_orders()
    if count:
        logger.info("Closed %d unpaid orders whose hold ran out", count)
    return count


@shared_task
def send_visit_reminders() -> int:
    count = services.send_visit_reminders()
    if count:
        logger.info("Reminded %d members of tomorrow's appointments", count)
    return count


@shared_task(
    autoretry_for=(sandbox.NotifyFailed, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=10,
)
def deliver_sandbox_notification(trade_id: int) -> bool:
    return sandbox.deliver_notification(trade_id=trade_id)


@shared_task(
    autoretry_for=(GatewayError, OSError), retry_backoff=10, retry_backoff_max=900, max_retries=12
)
def carry_out_refund(refund_id: int) -> bool:
    return services.carry_out_refund(refund_id=refund_id)


@shared_task
def settle_yesterday() -> int:
    """The daily settlement of the clinic day that just ended (run after midnight)."""
    day = timezone.localdate() - dt.timedelta(days=1)
    mismatches = sum(s.mismatch_count for s in settlement.settle_all(day=day))
    if mismatches:
        logger.warning("Settlement of %s found %d mismatches", day, mismatches)
    return mismatches
