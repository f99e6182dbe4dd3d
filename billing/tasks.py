"""Background jobs of billing; thin calls into services.

Every job here is idempotent: the jobs that carry money (payment notices, refunds) are handed
out again when their worker dies (late acknowledgement), retried on gateway, network and
database errors, and found again by the sweeps if all of that fails.
"""

import datetime as dt
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import services, settlement
from .gateways import GatewayError, sandbox
from .insurance import InsuranceUnavailable
from .insurance import services as insurance_services

logger = logging.getLogger(__name__)

# Errors after which a money job is tried again later (the database or a network was down).
TRANSIENT = (OSError, OperationalError, InterfaceError)


@shared_task
def expire_unpaid_orders() -> int:
    count = services.expire_unpaid_orders()
    if count:
        logger.info("Closed %d unpaid orders whose hold ran out", count)
    return count


@shared_task(
    autoretry_for=(sandbox.NotifyFailed, *TRANSIENT),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=10,
)
def deliver_sandbox_notification(trade_id: int) -> bool:
    return sandbox.deliver_notification(trade_id=trade_id)


@shared_task(
    autoretry_for=(GatewayError, *TRANSIENT),
    retry_backoff=10,
    retry_backoff_max=900,
    max_retries=12,
)
def carry_out_refund(refund_id: int) -> bool:
    return services.carry_out_refund(refund_id=refund_id)


@shared_task
def recover_payments_and_refunds() -> dict[str, int]:
    """The sweep behind the money jobs (every minute): sandbox payments MedBook never
    acknowledged are notified again, refunds left requested are carried out, and orders closed
    unpaid are checked with their gateway so money paid for them goes back."""
    now = timezone.now()
    trades = sandbox.unacknowledged_trades(now=now, older_than=dt.timedelta(seconds=30))
    for trade_id in trades:
        deliver_sandbox_notification.delay(trade_id)
    refunds = services.stuck_refunds(now=now)
    for refund_id in refunds:
        carry_out_refund.delay(refund_id)
    checked = services.check_closed_orders_with_gateways(now=now)
    found = {"notices": len(trades), "refunds": len(refunds), "checked_orders": checked}
    if trades or refunds:
        logger.warning("Recovering money jobs: %s", found)
    return found


@shared_task
def settle_yesterday() -> int:
    """The daily settlement of the clinic day that just ended (run after midnight)."""
    day = timezone.localdate() - dt.timedelta(days=1)
    mismatches = sum(s.mismatch_count for s in settlement.settle_all(day=day))
    if mismatches:
        logger.warning("Settlement of %s found %d mismatches", day, mismatches)
    return mismatches


@shared_task
def purge_booking_keys() -> int:
    """Forget the API's booking idempotency keys older than a week."""
    from .services.booking_keys import purge_booking_keys as purge

    return purge()


@shared_task(
    autoretry_for=(InsuranceUnavailable, *TRANSIENT),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=20,
    acks_late=True,
    reject_on_worker_lost=True,
)
def reverse_insurance(claim_id: int, fund: str, personal: str, reverse_no: str) -> str:
    """Give a remote insurer back its parts of a refunded or released visit (idempotent at
    the insurer by ``reverse_no``)."""
    return insurance_services.carry_out_reversal(
        claim_id=claim_id, fund=fund, personal=personal, reverse_no=reverse_no
    )
