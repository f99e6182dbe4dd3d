"""Daily settlement (日结): takings per gateway, department and doctor, reconciled against the
gateway's own statement. Recomputing a day replaces its figures, so the job is safe to rerun."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .choices import MismatchKind, RefundStatus
from .gateways import GatewayError, PaymentGateway, StatementEntry, configured_gateways
from .insurance.base import INSURER_TRADE_PREFIX
from .models import (
    InsuranceClaim,
    InsuranceSettlement,
    Order,
    Refund,
    Settlement,
    SettlementLine,
    SettlementMismatch,
)

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """A payment or refund as MedBook recorded it."""

    entry: StatementEntry
    doctor_id: int
    department_id: int


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The clinic day as [start, end) in aware datetimes."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def medbook_records(*, gateway: str, start: dt.datetime, end: dt.datetime) -> list[Record]:
    records = []
    orders = (
        Order.objects.filter(
            gateway=gateway, paid_at__gte=start, paid_at__lt=end, gateway_trade_no__isnull=False
        )
        # Paid in full by medical insurance: no money went through the gateway.
        .exclude(gateway_trade_no__startswith=INSURER_TRADE_PREFIX)
        .select_related("appointment__schedule__doctor")
    )
    for order in orders:
        doctor = order.appointment.schedule.doctor
        records.append(
            Record(
                StatementEntry("payment", order.gateway_trade_no, order.out_trade_no, order.amount),
                doctor.pk,
                doctor.department_id,
            )
        )
    refunds = Refund.objects.filter(
        Q(gateway=gateway) | Q(gateway="", order__gateway=gateway)
    ).select_related("order__appointment__schedule__doctor")
    # Money returned that the order never took was still received: it is a payment of its day.
    for refund in refunds.exclude(stray_trade_no="").filter(
        created_at__gte=start, created_at__lt=end
    ):
        doctor = refund.order.appointment.schedule.doctor
        entry = StatementEntry(
            "payment", refund.stray_trade_no, refund.order.out_trade_no, refund.amount
        )
        records.append(Record(entry, doctor.pk, doctor.department_id))
    for refund in refunds.filter(
        status=RefundStatus.SUCCEEDED, completed_at__gte=start, completed_at__lt=end
    ):
        doctor = refund.order.appointment.schedule.doctor
        entry = StatementEntry(
            "refund", refund.gateway_refund_no, refund.order.out_trade_no, refund.amount
        )
        records.append(Record(entry, doctor.pk, doctor.department_id))
    return records


def reconcile(ours: list[StatementEntry], theirs: list[StatementEntry]) -> list[SettlementMismatch]:
    mine = {(e.kind, e.reference): e for e in ours}
    gateway = {(e.kind, e.reference): e for e in theirs}
    mismatches = []
    for key in sorted(mine.keys() | gateway.keys()):
        a, b = mine.get(key), gateway.get(key)
        if a is not None and b is not None and a.amount == b.amount:
            continue
        if b is None:
            kind = MismatchKind.MISSING_AT_GATEWAY
        elif a is None:
            kind = MismatchKind.MISSING_IN_MEDBOOK
        else:
            kind = MismatchKind.AMOUNT_DIFFERS
        mismatches.append(
            SettlementMismatch(
                kind=kind,
                transaction_type=key[0],
                reference=key[1],
                out_trade_no=(a or b).out_trade_no,
                medbook_amount=a.amount if a else None,
                gateway_amount=b.amount if b else None,
            )
        )
    return mismatches


def settle_day(
    *, day: dt.date, gateway: PaymentGateway, now: dt.datetime | None = None
) -> Settlement:
    """Compute (or recompute) one gateway's settlement for ``day``."""
    start, end = day_bounds(day)
    records = medbook_records(gateway=gateway.name, start=start, end=end)
    statement = gateway.statement(start=start, end=end)  # outside the transaction
    per_doctor: dict[tuple[int, int], dict[str, Decimal | int]] = defaultdict(
        lambda: {"pc": 0, "pt": ZERO, "rc": 0, "rt": ZERO}
    )
    for record in records:
        totals = per_doctor[(record.department_id, record.doctor_id)]
        prefix = "p" if record.entry.kind == "payment" else "r"
        totals[f"{prefix}c"] += 1
        totals[f"{prefix}t"] += record.entry.amount
    mismatches = reconcile([r.entry for r in records], statement)
    with transaction.atomic():
        settlement, _ = Settlement.objects.update_or_create(
            day=day,
            gateway=gateway.name,
            defaults={
                "payments_count": sum(int(t["pc"]) for t in per_doctor.values()),
                "payments_total": sum((t["pt"] for t in per_doctor.values()), ZERO),
                "refunds_count": sum(int(t["rc"]) for t in per_doctor.values()),
                "refunds_total": sum((t["rt"] for t in per_doctor.values()), ZERO),
                "mismatch_count": len(mismatches),
                "computed_at": now or timezone.now(),
            },
        )
        settlement.lines.all().delete()
        settlement.mismatches.all().delete()
        SettlementLine.objects.bulk_create(
            SettlementLine(
                settlement=settlement,
                department_id=department_id,
                doctor_id=doctor_id,
                payments_count=t["pc"],
                payments_total=t["pt"],
                refunds_count=t["rc"],
                refunds_total=t["rt"],
            )
            for (department_id, doctor_id), t in per_doctor.items()
        )
        for mismatch in mismatches:
            mismatch.settlement = settlement
        SettlementMismatch.objects.bulk_create(mismatches)
    return settlement


def settle_insurers(*, day: dt.date, now: dt.datetime | None = None) -> list[InsuranceSettlement]:
    """Compute (or recompute) every insurer's settlement row for ``day``: the split of the
    insured visits settled that day, per insurer, and what of it went back since."""
    start, end = day_bounds(day)
    sums = (
        InsuranceClaim.objects.filter(settled_at__gte=start, settled_at__lt=end)
        .values("insurer")
        .annotate(
            claims_count=Count("pk"),
            total=Sum("total"),
            fund=Sum("fund"),
            personal=Sum("personal"),
            self_pay=Sum("self_pay"),
            reversed_fund=Sum("reversed_fund"),
            reversed_personal=Sum("reversed_personal"),
        )
        .order_by("insurer")
    )
    rows = []
    with transaction.atomic():
        InsuranceSettlement.objects.filter(day=day).delete()
        for row in sums:
            rows.append(
                InsuranceSettlement.objects.create(
                    day=day, computed_at=now or timezone.now(), **row
                )
            )
    return rows


def settle_all(*, day: dt.date, now: dt.datetime | None = None) -> list[Settlement]:
    """Settle every configured gateway; one whose statement is unavailable is logged and skipped
    (and settled when the job runs again for that day). The insurers' rows are recomputed too."""
    settle_insurers(day=day, now=now)
    settled = []
    for gateway in configured_gateways().values():
        try:
            settled.append(settle_day(day=day, gateway=gateway, now=now))
        except GatewayError:
            logger.exception("Settlement of %s for %s skipped", gateway.name, day)
    return settled
