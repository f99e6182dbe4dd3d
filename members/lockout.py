"""Failed logins: a limit that holds against guessing without locking the owner out.

Every password attempt for an account is counted before the password is checked, on a shared
atomic counter (``medbook.throttle``: one increment, so parallel guesses from many processes
each get their own number). Within MEDBOOK_LOGIN_FAILURES attempts per window nothing changes.
After that:

* a member (a login by mobile number, or a member's username) needs a code texted to the
  account's number as well as the password: the password is only checked once the code is
  right, so further guesses learn nothing without the phone. Codes are single use, a few tries
  each, and only so many are texted per hour. A number that is not a member's gets the same
  answer and no text.
* a staff login (username) is still checked, but only after MEDBOOK_STAFF_LOCKOUT_DELAY
  seconds; the authenticator code (TOTP) is asked after the password as always.

A clinic admin can clear a staff login's failures and reset its authenticator (staff console,
written to the operation log).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _

from medbook import audit, throttle
from medbook.audit import client_ip
from medbook.backends import forget_user
from medbook.personal_data import mask_phone, normalize_phone

from . import codes, sms
from .models import Member
from .selectors import member_by_phone
from .sms import send_sms

LOGIN_FAILURES = "login-failed"
LOGIN_CODES = "login-code"
CODE_PURPOSE = "login"
_VERIFIED = "_medbook_login_code_verified_for"


def login_key(credentials: dict[str, Any]) -> str:
    """The account a login attempt is for: the number in E.164, or the username."""
    raw = str(credentials.get("phone") or credentials.get("username") or "")
    return key_for(raw)


def key_for(login: str) -> str:
    try:
        return normalize_phone(login)
    except ValidationError:
        return login.strip().lower()[:150]


def _member_for(key: str) -> Member | None:
    if key.startswith("+"):
        return member_by_phone(key)
    return Member.objects.filter(user__username__iexact=key).first()


def needs_code(key: str) -> bool:
    """A member's login (or any number, registered or not): past the limit, a texted code."""
    return key.startswith("+") or _member_for(key) is not None


def masked_number(key: str) -> str:
    if key.startswith("+"):
        return mask_phone(key)
    member = _member_for(key)
    return member.masked_phone if member is not None else ""


def count_attempt(*, key: str) -> bool:
    """Count one password attempt; False once the account is past its limit."""
    attempt = throttle.tally(
        scope=LOGIN_FAILURES, who=key, window=settings.MEDBOOK_LOGIN_FAILURE_WINDOW
    )
    return attempt <= settings.MEDBOOK_LOGIN_FAILURES


def give_back_attempt(*, key: str) -> None:
    """A good password: its attempt does not count as a failure."""
    throttle.undo(scope=LOGIN_FAILURES, who=key, window=settings.MEDBOOK_LOGIN_FAILURE_WINDOW)


def failures(*, key: str) -> int:
    return throttle.count(
        scope=LOGIN_FAILURES, who=key, window=settings.MEDBOOK_LOGIN_FAILURE_WINDOW
    )


def forget_failures(*, key: str) -> None:
    throttle.reset(scope=LOGIN_FAILURES, who=key, window=settings.MEDBOOK_LOGIN_FAILURE_WINDOW)


def wait_before_checking() -> None:
    """A staff login past its limit: checked, but slowly."""
    time.sleep(settings.MEDBOOK_STAFF_LOCKOUT_DELAY)


# -- the texted code ---------------------------------------------------------------------------


def send_login_code(*, key: str, request: HttpRequest) -> bool:
    """Text a new login code to the account's number. False when too many were sent lately to
    the number or asked for from the address (the earlier code still works). A number that is
    no member's is counted alike, gets no text, and the answer is the same."""
    per_number = throttle.allow(scope=LOGIN_CODES, who=key, rate=settings.MEDBOOK_LOGIN_CODE_RATE)
    per_address = throttle.allow(
        scope=f"{LOGIN_CODES}-ip",
        who=client_ip(request) or "-",
        rate=settings.MEDBOOK_LOGIN_CODE_RATE_IP,
    )
    if not (per_number and per_address):
        return False
    member = _member_for(key)
    if member is not None:
        code = codes.issue_code(purpose=CODE_PURPOSE, subject=str(member.pk))
        send_sms(
            phone=member.phone,
            body=_(
                "Your login code is %(code)s, valid for 10 minutes. Someone tried your password "
                "many times; if it was not you, do not share this code."
            )
            % {"code": code},
            template=sms.LOGIN_CODE,
            params={"code": code},
        )
    return True


def check_login_code(*, request: HttpRequest, key: str, code: str) -> bool:
    """True once for the right code; the password of ``key`` may then be checked in this
    request whatever the count of failures (see :func:`code_verified`)."""
    member = _member_for(key)
    if member is None or not codes.check_code(
        purpose=CODE_PURPOSE, subject=str(member.pk), code=code
    ):
        return False
    setattr(request, _VERIFIED, key)
    return True


def code_verified(request: HttpRequest, key: str) -> bool:
    return getattr(request, _VERIFIED, None) == key


# -- staff recovery ----------------------------------------------------------------------------


def reset_staff_login(
    *, user: Any, by: Any, reset_authenticator: bool, request: HttpRequest | None = None
) -> None:
    """Clear a staff login's failed attempts; with ``reset_authenticator``, also remove its
    authenticator (TOTP and recovery codes) and end its sessions, so it sets one up again at
    its next login. Written to the operation log."""
    from allauth.mfa.models import Authenticator

    forget_failures(key=key_for(user.get_username()))
    with transaction.atomic():
        removed = 0
        if reset_authenticator:
            removed, _rows = Authenticator.objects.filter(user_id=user.pk).delete()
            get_user_model().objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
            forget_user(user.pk)
        audit.record(
            actor=by,
            action="staff.mfa_reset" if reset_authenticator else "staff.lockout_reset",
            target=user,
            detail={"authenticators_removed": removed} if reset_authenticator else {},
            request=request,
        )


def staff_logins(*, viewer: Any) -> list[dict[str, Any]]:
    """Console logins (any role group) and Django admin logins, with their failed attempts in
    this window, whether they have an authenticator, and whether ``viewer`` may reset them (a
    superuser only by a superuser), for the recovery page."""
    from allauth.mfa.models import Authenticator

    users = (
        get_user_model()
        .objects.filter(member__isnull=True)
        .filter(models.Q(groups__isnull=False) | models.Q(is_staff=True))
        .distinct()
        .order_by("username")
    )
    with_mfa = set(
        Authenticator.objects.filter(user__in=users, type=Authenticator.Type.TOTP).values_list(
            "user_id", flat=True
        )
    )
    return [
        {
            "user": user,
            "failures": failures(key=key_for(user.get_username())),
            "has_authenticator": user.pk in with_mfa,
            "can_reset": viewer.is_superuser or not user.is_superuser,
        }
        for user in users
    ]


def staff_login(*, pk: int, by: Any) -> Any | None:
    """The staff login ``by`` may recover: a console or admin login, not a member; a superuser
    only for a superuser."""
    user = (
        get_user_model()
        .objects.filter(pk=pk, member__isnull=True)
        .filter(models.Q(groups__isnull=False) | models.Q(is_staff=True))
        .first()
    )
    if user is None or (user.is_superuser and not by.is_superuser):
        return None
    return user
