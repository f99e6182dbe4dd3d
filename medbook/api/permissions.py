"""Who may call a staff endpoint: a staff login (console role) holding the permissions the
console's page for the same action asks (:func:`medbook.staff.staff_required`). Members get a
403 (the staff endpoints are not theirs); the second factor is checked before, by the bearer
authentication (:mod:`medbook.api.authentication`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from ..staff import is_staff_user

__all__ = ["StaffPermission", "staff_with"]


class StaffPermission(BasePermission):
    """A staff login with any one of ``any_of`` (every one of them when ``any_of`` is empty)."""

    any_of: tuple[str, ...] = ()
    message = _("Your role does not include this.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and is_staff_user(user)):
            return False
        return not self.any_of or any(user.has_perm(p) for p in self.any_of)


def staff_with(*perms: str) -> type[StaffPermission]:
    """The permission class for a staff endpoint open to logins with any one of ``perms``."""
    return type("StaffWith", (StaffPermission,), {"any_of": perms})
