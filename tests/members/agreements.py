"""Test helpers: publish agreement versions and record members' consents to them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from members.consent import Agreement, AgreementKind, Consent


def publish(kind: str, version: str = "1", *, ago: dt.timedelta | None = None) -> Agreement:
    """A published version of ``kind`` (terms, privacy or sensitive)."""
    published = timezone.now() - (ago if ago is not None else dt.timedelta(minutes=1))
    return Agreement.objects.create(
        kind=kind,
        version=version,
        title=f"{AgreementKind(kind).label} {version}",
        body=f"第一段 {kind} {version}。\n\n第二段。",
        published_at=published,
    )


def publish_all(version: str = "1") -> list[Agreement]:
    return [publish(kind, version) for kind in AgreementKind.values]


def consent(user, *agreements: Agreement) -> None:
    """``user`` accepted ``agreements`` (all current versions when none are given)."""
    for agreement in agreements or Agreement.objects.filter(published_at__isnull=False):
        Consent.objects.get_or_create(
            user=user,
            agreement=agreement,
            defaults={"kind": agreement.kind, "version": agreement.version},
        )
