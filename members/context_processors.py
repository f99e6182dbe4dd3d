"""Header data for member pages: the unread message count, and whether the login is staff's
(whose header links to the console instead of a member's pages)."""

from __future__ import annotations

from django.http import HttpRequest

from medbook.middleware import SESSION_KIND

from .selectors import unread_message_count


def member_header(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    member = getattr(request, "member", None)
    if member is not None:
        return {"unread_messages": unread_message_count(member_id=member.pk)}
    return {
        "unread_messages": unread_message_count(user_id=user.pk),
        "staff_session": request.session.get(SESSION_KIND) == "staff",
    }
