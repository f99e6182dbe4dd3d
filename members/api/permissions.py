"""Who may call a members endpoint, beyond being logged in."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from ..selectors import member_for_user


class IsMember(BasePermission):
    """A member's login; staff logins get a 403 (the member endpoints are a member's own).
    The member (with level) is put on ``request.member`` for the view. A request without an
    Accept-Language header is answered in the member's saved language (the one the website's
    language switch keeps), as their texts and e-mails are."""

    message = _("These endpoints are for members. Staff use the staff console.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        request.member = member_for_user(user_id=user.pk)
        if request.member is not None and "Accept-Language" not in request.headers:
            translation.activate(request.member.language)
            request.LANGUAGE_CODE = translation.get_language()
        return request.member is not None
