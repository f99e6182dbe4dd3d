"""Closing a member's account on request and erasing their personal data (PIPL's right to
deletion), keeping what the law asks a clinic to keep.

What goes: the name (replaced by a pseudonym), the mobile number (released: its owner may sign
up again), the ID number, the birth date, the patients' names, ID and phone numbers, the
messages' subjects and texts, the consents' addresses, the history rows that held any of it,
and the login (closed: no password, inactive, every session ended and deleted).

What stays, pointing at the pseudonymous member: appointments (the clinic's visit record),
the doctors' visit records (病历: clinics keep outpatient records for at least 15 years, and the
append-only tables refuse a change anyway; they name the patient row, whose name is erased),
orders, payments, refunds and the points ledger (accounting records), the consents (evidence
of consent) and the operation log (which names members by id and masked number only).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from appointments.choices import UPCOMING_STATUSES
from appointments.models import Appointment
from billing.choices import OrderStatus, RefundStatus
from billing.models import Order, Refund
from medbook import audit
from medbook.backends import forget_user
from members.consent import Consent
from members.models import Gender, Member, Message, Patient, User

from .exceptions import MoneyInFlight, UpcomingAppointments, WrongPassword

ERASED_TEXT = "（已删除）"


def _pseudonym(member: Member) -> str:
    return f"已注销会员{member.pk}"


def erasure_refusal(*, member: Member) -> Exception | None:
    """Why ``member``'s account cannot be closed now (None: it can): an appointment still ahead
    (pending payment, confirmed, checked in), or money in flight (an unpaid order, a refund
    requested or failed and not yet carried out)."""
    if Appointment.objects.filter(member=member, status__in=UPCOMING_STATUSES).exists():
        return UpcomingAppointments()
    unpaid = Order.objects.filter(
        member=member, status__in=[OrderStatus.UNPAID, OrderStatus.REFUNDING]
    ).exists()
    refunding = Refund.objects.filter(
        order__member=member, status__in=[RefundStatus.REQUESTED, RefundStatus.FAILED]
    ).exists()
    if unpaid or refunding:
        return MoneyInFlight()
    return None


def _delete_sessions(user_id: int) -> int:
    """Delete the stored sessions of ``user_id`` (their contents are encrypted, so each live
    one is read to know whose it is; closing an account is rare)."""
    doomed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        data = session.get_decoded()  # {} when unreadable: nobody's
        if str(data.get("_auth_user_id")) == str(user_id):
            doomed.append(session.session_key)
    if doomed:
        from importlib import import_module

        from django.conf import settings

        engine = import_module(settings.SESSION_ENGINE)
        for key in doomed:  # through the engine: a cached_db session leaves the cache too
            engine.SessionStore(session_key=key).delete()
    return len(doomed)


@transaction.atomic
def close_account(
    *,
    member: Member,
    password: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Member:
    """Close ``member``'s account at their request and erase their personal data (see the
    module). The password is asked again (WrongPassword); refused while an appointment is
    ahead or money is in flight. Logged as ``privacy.erasure`` (by the member's login, with the
    pseudonym)."""
    now = now or timezone.now()
    member = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
    user = User.objects.select_for_update().get(pk=member.user_id)
    if not user.check_password(password):
        raise WrongPassword(field="password")
    refusal = erasure_refusal(member=member)
    if refusal is not None:
        raise refusal
    counts = erase_personal_data(member=member, user=user, now=now)
    audit.record(
        actor=user,
        action="privacy.erasure",
        target=member,
        detail=counts,
        request=request,
    )
    transaction.on_commit(lambda: forget_user(user.pk))
    return member


def erase_personal_data(*, member: Member, user: User, now: dt.datetime) -> dict[str, int]:
    """The erasure itself (the caller checked and locks): see the module."""
    # History first: the saves below add one history row each, holding only the pseudonym.
    counts = {
        "member_history": Member.history.filter(id=member.pk).delete()[0],
        "patient_history": Patient.history.filter(member_id=member.pk).delete()[0],
    }
    patients = list(Patient.objects.select_for_update().filter(member=member).order_by("pk"))
    for patient in patients:
        patient.name = ERASED_TEXT
        patient.id_number = ""
        patient.phone = ""
        patient.guardian_name = ""
        patient.guardian_id_number = ""
        patient.birth_date = None
        patient.gender = Gender.UNDISCLOSED
        patient.removed_at = patient.removed_at or now
        patient.save()
    # The saves above wrote history rows holding no personal data; keep none anyway.
    Patient.history.filter(member_id=member.pk).delete()
    counts["patients"] = len(patients)
    counts["messages"] = Message.objects.filter(member=member).update(
        title=ERASED_TEXT, body=ERASED_TEXT
    )
    Consent.objects.filter(user_id=user.pk).update(ip=None)

    member.name = _pseudonym(member)
    member.phone = ""
    member.phone_verified = False
    member.national_id = ""
    member.birth_date = None
    member.gender = Gender.UNDISCLOSED
    member.save()
    Member.history.filter(id=member.pk).delete()

    user.username = f"closed-{secrets.token_hex(8)}"
    user.password = make_password(None)  # unusable: nobody logs in as it again
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.save(
        update_fields=["username", "password", "first_name", "last_name", "email", "is_active"]
    )
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    counts["sessions"] = _delete_sessions(user.pk)
    _forget_allauth(user)
    return counts


def _forget_allauth(user: User) -> None:
    """allauth's own rows of the login (e-mail addresses, authenticators)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
