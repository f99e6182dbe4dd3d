"""Header data for member pages: the unread message count."""

from __future__ import annotations

from django.http import HttpRequest

from .selectors import unread_message_count


def member_header(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    member = getattr(request, "member", None)
    if member is not None:
        return {"unread_messages": unread_message_count(member_id=member.pk)}
    return {"unread_messages": unread_message_count(user_id=user.pk)}
