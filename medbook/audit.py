"""Writing the operation log. Call ``record`` in the same transaction as the change it logs."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from .models import OperationLog, Outcome


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from (the socket's; proxies are trusted in issue 6's way)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    request: HttpRequest | None = None,
) -> OperationLog:
    """Append one row. ``target``'s label is its ``str()``, which never shows personal data in
    full (members print their masked phone)."""
    return OperationLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        reason=reason[:200],
        detail=detail or {},
        outcome=outcome,
        ip=client_ip(request),
    )
