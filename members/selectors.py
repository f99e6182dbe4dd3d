"""Reads of the members app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from medbook.crypto import blind_index
from medbook.personal_data import normalize_phone

from .models import PHONE_PURPOSE, Member, PointsEntry


def member_by_phone(phone: str) -> Member | None:
    """Exact look-up by mobile number through the blind index (any common spelling works)."""
    try:
        normalized = normalize_phone(phone)
    except ValidationError:
        return None
    return (
        Member.objects.select_related("level", "user")
        .filter(phone_index=blind_index(normalized, purpose=PHONE_PURPOSE))
        .first()
    )


def members_with_ledger_drift() -> QuerySet[Member]:
    """Members whose points balance differs from the sum of their ledger (should be none)."""
    ledger_sum = (
        PointsEntry.objects.filter(member=OuterRef("pk"))
        .values("member")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return (
        Member.objects.annotate(
            ledger_total=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), Value(0))
        )
        .exclude(points_balance=F("ledger_total"))
        .order_by("pk")
    )
