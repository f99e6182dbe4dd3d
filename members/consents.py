"""Consent (PIPL): which agreement versions are current, what a login still has to accept, and
recording an acceptance.

Terms and privacy policy are accepted at sign-up and asked again at the next login after a new
version is published (the login hook puts a mark in the session, ``ConsentMiddleware`` sends
the member to the consent page until it is gone). The separate consent to process sensitive
personal information (health data) is asked before a booking (``sensitive_consent_required``
on the booking page, :func:`require_sensitive_consent` in the API). With no published version
of a kind, nothing is asked for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook import audit
from medbook.audit import client_ip
from medbook.errors import Forbidden, Invalid

from .consent import SIGNUP_KINDS, Agreement, AgreementKind, Consent

PENDING_SESSION_KEY = "medbook_consent_pending"
SENSITIVE_SESSION_KEY = "medbook_sensitive_consent"
SENSITIVE_CACHE_KEY = "consent:current:sensitive"
SENSITIVE_CACHE_SECONDS = 60


class SensitiveConsentRequired(Forbidden):
    """A booking before the member agreed to the processing of their health data."""

    code = "sensitive_consent_required"

    def default_message(self) -> str:
        return _(
            "Before your first booking, please agree to the processing of your sensitive "
            "personal information (health data)."
        )


# -- reads -----------------------------------------------------------------------------------------


def current_agreements(*, now: dt.datetime | None = None) -> dict[str, Agreement]:
    """The current version of each kind: the latest published by ``now`` (one query)."""
    now = now or timezone.now()
    current: dict[str, Agreement] = {}
    rows = Agreement.objects.filter(published_at__lte=now).order_by("kind", "-published_at", "-id")
    for agreement in rows:
        current.setdefault(agreement.kind, agreement)
    return current


def current_agreement(*, kind: str, now: dt.datetime | None = None) -> Agreement | None:
    return (
        Agreement.objects.filter(kind=kind, published_at__lte=now or timezone.now())
        .order_by("-published_at", "-id")
        .first()
    )


def pending_kinds(
    *, user: Any, kinds: Iterable[str] = SIGNUP_KINDS, now: dt.datetime | None = None
) -> list[Agreement]:
    """The current agreements among ``kinds`` that ``user`` has not accepted (their current
    version: an older version's consent does not count)."""
    current = current_agreements(now=now)
    wanted = [current[kind] for kind in kinds if kind in current]
    if not wanted:
        return []
    accepted = set(
        Consent.objects.filter(user=user, agreement__in=wanted).values_list(
            "agreement_id", flat=True
        )
    )
    return [agreement for agreement in wanted if agreement.pk not in accepted]


def _current_sensitive_id(*, now: dt.datetime | None = None) -> int:
    """The id of the current sensitive-information consent (0: none published). Read on every
    booking, so kept in the cache for a minute (a new version is asked within a minute of its
    publication; the admin clears it at once)."""
    try:
        cached = cache.get(SENSITIVE_CACHE_KEY)
    except Exception:
        cached = None
    if cached is not None:
        return cached
    current = current_agreement(kind=AgreementKind.SENSITIVE, now=now)
    value = current.pk if current is not None else 0
    with contextlib.suppress(Exception):
        cache.set(SENSITIVE_CACHE_KEY, value, SENSITIVE_CACHE_SECONDS)
    return value


def forget_current_agreements() -> None:
    """A version was published or changed (the admin): read it again."""
    with contextlib.suppress(Exception):
        cache.delete(SENSITIVE_CACHE_KEY)


def has_sensitive_consent(
    *, user: Any, session: Any = None, now: dt.datetime | None = None
) -> bool:
    """True when no sensitive-information consent is published, or ``user`` accepted the
    current version. With the session, an acceptance known there (marked at login or on
    accepting) costs no query: this runs on every booking."""
    current = _current_sensitive_id(now=now)
    if not current:
        return True
    if session is not None and session.get(SENSITIVE_SESSION_KEY) == current:
        return True
    accepted = Consent.objects.filter(user=user, agreement_id=current).exists()
    if accepted and session is not None:
        session[SENSITIVE_SESSION_KEY] = current
    return accepted


def require_sensitive_consent(*, user: Any, now: dt.datetime | None = None) -> None:
    """Raise :class:`SensitiveConsentRequired` (403) unless ``user`` accepted the current
    sensitive-information consent (the API's booking calls this)."""
    if not has_sensitive_consent(user=user, now=now):
        raise SensitiveConsentRequired()


def consents_of(*, user: Any) -> list[Consent]:
    return list(Consent.objects.filter(user=user).order_by("accepted_at", "id"))


# -- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def accept(
    *,
    user: Any,
    kinds: Iterable[str],
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    log: bool = True,
) -> list[Consent]:
    """Record ``user``'s consent to the current version of each of ``kinds`` (already accepted:
    left as it was). Raises Invalid for an unknown kind. Logged as ``consent.accept`` — except
    at sign-up (``log=False``): the consent rows are the record, and a sign-up whose number is
    never confirmed must leave nothing behind when it expires (members/unverified.py)."""
    now = now or timezone.now()
    kinds = list(dict.fromkeys(kinds))
    unknown = [kind for kind in kinds if kind not in AgreementKind.values]
    if unknown:
        raise Invalid(
            _("Unknown document: %(kind)s.") % {"kind": ", ".join(unknown)}, field="kinds"
        )
    pending = pending_kinds(user=user, kinds=kinds, now=now)
    made = []
    for agreement in pending:
        try:
            with transaction.atomic():
                made.append(
                    Consent.objects.create(
                        user=user,
                        agreement=agreement,
                        kind=agreement.kind,
                        version=agreement.version,
                        accepted_at=now,
                        ip=client_ip(request),
                    )
                )
        except IntegrityError:  # the same consent from a parallel request: it is there
            continue
    if made and log:
        audit.record(
            actor=user,
            action="consent.accept",
            target_label=str(user.pk),
            detail={consent.kind: consent.version for consent in made},
            request=request,
        )
    return made


def mark_pending_at_login(*, request: HttpRequest, user: Any) -> None:
    """At login: a member who has not accepted the current terms or privacy policy is asked
    before anything else (``ConsentMiddleware``). Staff logins are not asked."""
    from .selectors import member_for_user

    if user.is_staff or member_for_user(user_id=user.pk) is None:
        return
    if pending_kinds(user=user):
        request.session[PENDING_SESSION_KEY] = True
    else:
        request.session.pop(PENDING_SESSION_KEY, None)
    has_sensitive_consent(user=user, session=request.session)  # remembered for the bookings
