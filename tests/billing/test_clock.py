"""Money services take ``now`` and record it: a job run late, or a test, says when things
happened instead of each service reading the clock on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from billing import services, settlement
from billing.choices import RefundStatus
from billing.gateways import get_gateway
from billing.models import Refund, Settlement
from tests.billing.factories import paid_order

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_a_refund_records_the_moment_it_was_carried_out(member) -> None:
    order = paid_order(member=member)
    refund = services.request_refund(order=order, reason="退费")
    moment = timezone.now() + dt.timedelta(hours=3)

    services.carry_out_refund(refund_id=refund.pk, now=moment)

    refund = Refund.objects.get(pk=refund.pk)
    assert (refund.status, refund.completed_at, refund.last_attempt_at) == (
        RefundStatus.SUCCEEDED,
        moment,
        moment,
    )


def test_a_settlement_records_when_it_was_computed() -> None:
    moment = timezone.now() + dt.timedelta(days=1)
    settlement.settle_day(
        day=timezone.localdate() - dt.timedelta(days=1), gateway=get_gateway("sandbox"), now=moment
    )
    assert Settlement.objects.get().computed_at == moment
