"""Writing and checking the operation log. Call ``record`` in the same transaction as the
change it logs: the row commits or rolls back with it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest

from .models import OperationLog, Outcome

# Any constant: the key of the PostgreSQL advisory lock that orders appends to the chain.
_CHAIN_LOCK = 0x4D42_4C4F47


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or — only behind proxies listed in
    MEDBOOK_TRUSTED_PROXIES — the last address X-Forwarded-For adds before them."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "MEDBOOK_TRUSTED_PROXIES", []))
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote


def _payload(row: OperationLog) -> str:
    return json.dumps(
        [
            row.actor_id,
            row.action,
            row.target_type,
            row.target_id,
            row.target_label,
            row.reason,
            row.detail,
            row.outcome,
            row.ip,
            row.created_at.isoformat(),
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def chain_hash(row: OperationLog) -> str:
    return hashlib.sha256((row.prev_hash + _payload(row)).encode()).hexdigest()


def _label(target: models.Model) -> str:
    """How the log names ``target``: its ``audit_label`` when it has one (a member: id and
    masked number, no name — the chain cannot be edited when a member's data is erased), else
    its ``str()``."""
    return getattr(target, "audit_label", None) or str(target)


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    request: HttpRequest | None = None,
) -> OperationLog:
    """Append one row to the chain. ``target``'s label is its ``audit_label`` or ``str()``,
    which never shows personal data in full (members: their id and masked phone). Without a
    ``target``, ``target_type`` ("app_label.model"), ``target_id`` and ``target_label`` name
    the object; labels hold no words of a language (the log page names the kind)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = OperationLog.objects.order_by("-pk").values_list("hash", flat=True).first()
        row = OperationLog(
            actor=actor if getattr(actor, "pk", None) else None,
            action=action,
            target_type=target._meta.label_lower if target is not None else target_type,
            target_id=str(target.pk) if target is not None else target_id[:64],
            target_label=(_label(target) if target is not None else target_label)[:200],
            reason=reason[:200],
            detail=detail or {},
            outcome=outcome,
            ip=client_ip(request),
            prev_hash=last or "",
        )
        row.hash = chain_hash(row)
        row.save()
    return row


def broken_links(rows: Iterator[OperationLog]) -> Iterator[tuple[int, str]]:
    """(id, what is wrong) for every row that does not fit the chain."""
    previous: str | None = None
    for row in rows:
        if previous is not None and row.prev_hash != previous:
            yield row.pk, "does not follow the row before it (a row was removed or inserted)"
        if chain_hash(row) != row.hash:
            yield row.pk, "its content does not match its hash (it was edited)"
        previous = row.hash
