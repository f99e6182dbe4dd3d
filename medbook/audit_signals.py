"""Plumbing: write account and admin events to the operation log, and start or end the session
generation at login and logout.

Logins (also failed ones), logouts, two-factor changes, group and permission changes of
logins, and every write made through Django admin. Failed logins name the attempted account
masked, never in full.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import audit
from .backends import forget_user
from .models import Outcome
from .personal_data import mask_phone

_ADMIN_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .middleware import start_session
    from .staff import is_staff_user

    if request is not None and hasattr(request, "session"):
        start_session(request, user, staff=user.is_staff or is_staff_user(user))
    audit.record(actor=user, action="auth.login", target=user, request=request)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    # Logging out ends every other session of the user too (SessionPolicyMiddleware).
    get_user_model().objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    forget_user(user.pk)
    audit.record(actor=user, action="auth.logout", target=user, request=request)


def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    tried = str(
        credentials.get("phone") or credentials.get("username") or credentials.get("login") or ""
    )
    label = mask_phone(tried) if tried.lstrip("+").isdigit() else tried[:64]
    audit.record(
        actor=None,
        action="auth.login_failed",
        target_label=label,
        outcome=Outcome.FAILURE,
        request=request,
    )


def _memberships_changed(
    sender: Any, instance: Any, action: str, pk_set: set | None, model: Any, **kwargs: Any
) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    what = "groups" if model is Group else "permissions"
    audit.record(
        actor=None,
        action=f"access.{what}_changed",
        target=instance,
        detail={"change": action.removeprefix("post_"), "ids": sorted(pk_set or [])},
    )


def _admin_write(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    audit.record(
        actor=instance.user,
        action=_ADMIN_ACTIONS.get(instance.action_flag, "admin.write"),
        target_type=(
            f"{instance.content_type.app_label}.{instance.content_type.model}"
            if instance.content_type
            else ""
        ),
        target_id=str(instance.object_id or ""),
        target_label=instance.object_repr,
        detail={"change": instance.get_change_message()[:500]},
    )


def _mfa_changed(action: str):
    def receiver(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
        authenticator = kwargs.get("authenticator")
        audit.record(
            actor=user,
            action=action,
            target=user,
            detail={"type": getattr(authenticator, "type", "")},
            request=request,
        )

    return receiver


_MFA_RECEIVERS = {
    "authenticator_added": _mfa_changed("mfa.added"),
    "authenticator_removed": _mfa_changed("mfa.removed"),
    "authenticator_reset": _mfa_changed("mfa.reset"),
}


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_user(instance.pk)


def connect() -> None:
    from allauth.mfa import signals as mfa_signals

    for name, receiver in _MFA_RECEIVERS.items():
        getattr(mfa_signals, name).connect(receiver, dispatch_uid=f"medbook.audit.{name}")
    user_model = get_user_model()
    user_logged_in.connect(_logged_in, dispatch_uid="medbook.audit.login")
    user_logged_out.connect(_logged_out, dispatch_uid="medbook.audit.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="medbook.audit.login_failed")
    m2m_changed.connect(
        _memberships_changed, sender=user_model.groups.through, dispatch_uid="medbook.audit.groups"
    )
    m2m_changed.connect(
        _memberships_changed,
        sender=user_model.user_permissions.through,
        dispatch_uid="medbook.audit.user_permissions",
    )
    m2m_changed.connect(
        _memberships_changed,
        sender=Group.permissions.through,
        dispatch_uid="medbook.audit.group_permissions",
    )
    post_save.connect(_admin_write, sender=LogEntry, dispatch_uid="medbook.audit.admin")
    # The login cache (medbook.backends) drops a user's row whenever it changes.
    post_save.connect(_user_changed, sender=user_model, dispatch_uid="medbook.login_cache.save")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid="medbook.login_cache.delete")
