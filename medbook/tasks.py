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


@shared_task
def deliver_webhook(delivery_id: int) -> bool:
    """Make a webhook delivery's due attempt (idempotent: claims the delivery first)."""
    from .webhooks.delivery import deliver

    return deliver(delivery_id=delivery_id)


@shared_task
def send_overdue_webhooks() -> int:
    """Queue the webhook deliveries whose job was lost (a sweep; each job claims its row), and
    forget events past MEDBOOK_WEBHOOK_KEEP_DAYS."""
    from django.utils import timezone

    from .webhooks.delivery import overdue_deliveries, purge_old_events

    now = timezone.now()
    due = overdue_deliveries(now=now)
    for pk in due:
        deliver_webhook.delay(pk)
    purge_old_events(now=now)
    return len(due)


@shared_task
def purge_ended_api_logins() -> int:
    """Forget API logins that ended over 30 days ago (medbook.api.tokens)."""
    from .api.tokens import purge_ended_logins

    return purge_ended_logins()
