"""Payment in cash (or card terminal) at the front desk: the till book is MedBook's own record.

There are no notifications; a refund is the desk handing the money back, recorded at once;
the daily statement is the counter's own payments and refunds, so settlement lists them per
day beside the online gateways.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from .base import Acknowledgement, InvalidNotification, PaymentNotice, StatementEntry


class CounterGateway:
    name = "counter"

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> PaymentNotice:
        raise InvalidNotification("the counter sends no notifications")

    def acknowledge(self, *, accepted: bool) -> Acknowledgement:
        return Acknowledgement(status=400, body="fail")

    def refund(
        self,
        *,
        out_trade_no: str,
        gateway_trade_no: str,
        out_refund_no: str,
        amount: Decimal,
        total: Decimal,
    ) -> str:
        return f"CTR{out_refund_no}"

    def query_payment(self, *, out_trade_no: str) -> PaymentNotice | None:
        return None  # the till book is MedBook's own: nothing to ask

    def statement(self, *, start: dt.datetime, end: dt.datetime) -> list[StatementEntry]:
        from billing.models import Order, Refund

        payments = Order.objects.filter(gateway=self.name, paid_at__gte=start, paid_at__lt=end)
        refunds = Refund.objects.filter(
            order__gateway=self.name, completed_at__gte=start, completed_at__lt=end
        ).select_related("order")
        return [
            StatementEntry("payment", o.gateway_trade_no, o.out_trade_no, o.amount)
            for o in payments
        ] + [
            StatementEntry("refund", r.gateway_refund_no, r.order.out_trade_no, r.amount)
            for r in refunds
        ]
