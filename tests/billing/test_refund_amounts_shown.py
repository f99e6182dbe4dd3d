"""Refund amounts on the appointment page read as money (two decimals) whatever the database
returns for a sum: SQLite's SUM of a decimal column comes back as Decimal('300')."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from billing.selectors import RefundSummary
from tests.billing.factories import paid_order

pytestmark = pytest.mark.django_db


def test_a_refund_on_its_way_shows_yuan_and_fen(member) -> None:
    order = paid_order(member)
    refunds = RefundSummary(requested=Decimal("300"), refunded=Decimal("12.5"))
    page = render_to_string(
        "billing/partials/_appointment_status.html",
        {"appointment": order.appointment, "detail": {"order": order, "refunds": refunds}},
    )
    assert "¥300.00" in page and "¥12.50" in page
