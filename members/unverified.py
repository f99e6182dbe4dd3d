"""Sign-ups whose number was never confirmed expire and let the number go.

Anyone may type any number into the sign-up form; until the code texted to it comes back, the
account is not a member and must not hold the number — otherwise a typo or a squatter would
lock the real owner out (their own sign-up would only get "this number already has an
account"). Past MEDBOOK_UNVERIFIED_SIGNUP_MINUTES such an account is deleted: by the periodic
job, and at once when someone signs up with its number.

Only self-service sign-ups expire: they have a password. A patient the front desk registered
(no password, number not confirmed by text) is a real patient with visits and stays.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from medbook.crypto import blind_index

from .consent import Consent
from .models import PHONE_PURPOSE, Member, Patient, User

logger = logging.getLogger(__name__)


def stale_signups(*, now: dt.datetime, phone: str | None = None) -> QuerySet[Member]:
    """Sign-ups past their time whose number was never confirmed (optionally: holding
    ``phone``, in E.164), that never booked."""
    cutoff = now - dt.timedelta(minutes=settings.MEDBOOK_UNVERIFIED_SIGNUP_MINUTES)
    rows = Member.objects.filter(
        phone_verified=False,
        registered_at__lt=cutoff,
        appointments__isnull=True,
        points_entries__isnull=True,
    ).exclude(**{"user__password__startswith": UNUSABLE_PASSWORD_PREFIX})  # the desk's patients
    if phone is not None:
        rows = rows.filter(phone_index=blind_index(phone, purpose=PHONE_PURPOSE))
    return rows.order_by("pk")


def _delete(member_id: int) -> bool:
    """Delete one expired sign-up (login, member, its patients, consents, history)."""
    with transaction.atomic():
        member = (
            Member.objects.select_for_update(skip_locked=True)
            .filter(pk=member_id, phone_verified=False)
            .first()
        )
        if member is None:
            return False
        user_id = member.user_id
        patients = Patient.objects.filter(member=member)
        Patient.history.filter(member_id=member.pk).delete()
        patients.delete()
        Member.history.filter(id=member.pk).delete()
        Consent.objects.filter(user_id=user_id).delete()
        member.delete()
        User.objects.filter(pk=user_id).delete()
    return True


def expire_unverified_signups(*, now: dt.datetime | None = None, phone: str | None = None) -> int:
    """Delete the expired sign-ups (those holding ``phone`` only, when given); returns how
    many went. One that something else still points at is left (logged) for a person to
    look at."""
    now = now or timezone.now()
    count = 0
    for member_id in stale_signups(now=now, phone=phone).values_list("pk", flat=True)[:500]:
        try:
            count += _delete(member_id)
        except (ProtectedError, IntegrityError):
            logger.warning("Expired sign-up %s is referenced elsewhere; left in place", member_id)
    return count
