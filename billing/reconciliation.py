"""Money that went astray: the gateways' own records held against MedBook's (reads only).

A payment a gateway took must be either the payment of an order MedBook applied it to, or
money MedBook is sending back (a refund of it requested or done). A refund MedBook requested
must be carried out within minutes, and one MedBook counts as done must be in the gateway's
record. ``manage.py reconcile_payments`` lists every exception; the fault tests run it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from .choices import Gateway, RefundStatus
from .gateways import GatewayError, get_gateway
from .models import Order, Refund


@dataclass(frozen=True)
class Problem:
    kind: str  # "charged_not_applied", "refund_stuck", "refund_missing_at_gateway"
    gateway: str
    out_trade_no: str
    reference: str  # the gateway's trade number, or MedBook's refund number
    amount: Decimal
    member: str  # masked

    def __str__(self) -> str:
        return (
            f"{self.kind}: {self.gateway} order {self.out_trade_no} {self.reference} "
            f"¥{self.amount} member {self.member}"
        )


def _member_of(out_trade_no: str) -> str:
    order = Order.objects.select_related("member").filter(out_trade_no=out_trade_no).first()
    return order.member.masked_phone if order else "?"


def _days(since: dt.datetime, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The clinic days from ``since`` to ``now`` (statements are kept per day)."""
    day = timezone.localdate(since)
    days = []
    while day <= timezone.localdate(now):
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        days.append((start, start + dt.timedelta(days=1)))
        day += dt.timedelta(days=1)
    return days


def payment_problems(
    *, since: dt.datetime, now: dt.datetime, stuck_after: dt.timedelta = dt.timedelta(minutes=15)
) -> list[Problem]:
    """Every payment taken without an appointment or a refund, every refund left undone, and
    every refund MedBook counts as done that the gateway has no record of, since ``since``.

    Gateways whose records cannot be read now (no statement file yet) are skipped.
    """
    problems: list[Problem] = []
    used = set(
        Order.objects.filter(Q(created_at__gte=since - dt.timedelta(days=1)))
        .exclude(gateway=Gateway.COUNTER)
        .values_list("gateway", flat=True)
        .distinct()
    ) | set(
        # stray payments taken by a gateway the member switched away from
        Refund.objects.filter(created_at__gte=since)
        .exclude(gateway="")
        .values_list("gateway", flat=True)
        .distinct()
    )
    for name in sorted(used):
        gateway = get_gateway(name)
        if gateway is None:
            continue
        try:
            entries = [
                e
                for start, end in _days(since, now)
                for e in gateway.statement(start=start, end=end)
            ]
        except (GatewayError, OSError):
            continue
        payments = [e for e in entries if e.kind == "payment"]
        refunded_at_gateway = {e.reference for e in entries if e.kind == "refund"}
        trade_nos = [e.reference for e in payments]
        applied = set(
            Order.objects.filter(gateway_trade_no__in=trade_nos).values_list(
                "gateway_trade_no", flat=True
            )
        )
        returning = set(
            Refund.objects.filter(stray_trade_no__in=trade_nos)
            .exclude(status=RefundStatus.FAILED)
            .values_list("stray_trade_no", flat=True)
        )
        problems += [
            Problem(
                "charged_not_applied",
                name,
                e.out_trade_no,
                e.reference,
                e.amount,
                _member_of(e.out_trade_no),
            )
            for e in payments
            if e.reference not in applied and e.reference not in returning
        ]
        done = Refund.objects.filter(
            Q(gateway=name) | Q(gateway="", order__gateway=name),
            status=RefundStatus.SUCCEEDED,
            completed_at__gte=since,
        ).select_related("order__member")
        problems += [
            Problem(
                "refund_missing_at_gateway",
                name,
                r.order.out_trade_no,
                r.out_refund_no,
                r.amount,
                r.order.member.masked_phone,
            )
            for r in done
            if r.gateway_refund_no not in refunded_at_gateway
        ]
    stuck = Refund.objects.filter(
        status=RefundStatus.REQUESTED, created_at__gte=since, created_at__lte=now - stuck_after
    ).select_related("order__member")
    problems += [
        Problem(
            "refund_stuck",
            r.through,
            r.order.out_trade_no,
            r.out_refund_no,
            r.amount,
            r.order.member.masked_phone,
        )
        for r in stuck
    ]
    return problems
