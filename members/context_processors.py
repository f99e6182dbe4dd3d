"""Header data for member pages: the unread message count."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Message


def member_header(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    member = getattr(request, "member", None)
    filters = {"member": member} if member else {"member__user_id": user.pk}
    return {"unread_messages": Message.objects.filter(read_at__isnull=True, **filters).count()}
