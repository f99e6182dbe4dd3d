"""Real-name verification (实名认证): ask the configured verifier whether a name and an ID
number belong together, count the attempt against the rate limits, and log it.

The provider is called outside any transaction (never hold a database transaction open while
waiting on the network); the attempt, its operation-log row and, on a match, the patient's
verified fields are then written together in one.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook import audit, throttle
from medbook.crypto import blind_index
from medbook.errors import Invalid
from medbook.models import Outcome as AuditOutcome
from medbook.personal_data import normalize_national_id, validate_national_id
from members.models import Patient

from .choices import IN_PERSON, ONLINE_ID_TYPES, Channel, Outcome
from .exceptions import AlreadyVerified, NotVerifiable, TooManyAttempts
from .models import SUBJECT_PURPOSE, VerificationAttempt
from .verifiers import Result, configured_verifier

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 64  # members.Patient.name


def subject_index(id_number: str) -> str:
    """The keyed blind index an attempt keeps instead of the ID number."""
    return blind_index(id_number, purpose=SUBJECT_PURPOSE)


def normalised(*, name: str, id_type: str, id_number: str) -> tuple[str, str, str]:
    """The name (inner spaces collapsed), the ID type and the number (GB 11643-checked), or a
    refusal saying what is wrong — before anything is counted or sent."""
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise Invalid(_("Enter the name exactly as it is on the ID card."), field="name")
    if id_type not in ONLINE_ID_TYPES:
        raise NotVerifiable()
    try:
        number = validate_national_id(id_number)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field="id_number") from exc
    return name, id_type, number


def _count_attempt(*, by: Any, id_number: str, channel: str, request: HttpRequest | None) -> None:
    """One attempt against the login's rate (members online; staff at the desk have their own,
    larger one) and the ID number's; refused (and logged) beyond either."""
    user_rate = (
        settings.MEDBOOK_REALNAME_RATE_DESK
        if channel == Channel.DESK
        else settings.MEDBOOK_REALNAME_RATE_USER
    )
    user_ok = throttle.allow(scope=f"realname:{channel}", who=str(by.pk), rate=user_rate)
    id_ok = throttle.allow(
        scope="realname:id", who=id_number, rate=settings.MEDBOOK_REALNAME_RATE_ID
    )
    if user_ok and id_ok:
        return
    audit.record(
        actor=by,
        action="identity.verify",
        target_label=str(_("real-name verification")),
        detail={"channel": channel, "refused": "login" if not user_ok else "id_number"},
        outcome=AuditOutcome.DENIED,
        request=request,
    )
    raise TooManyAttempts()


def ask_verifier(*, name: str, id_type: str, id_number: str) -> Result:
    """The configured verifier's answer; an adapter that breaks is an ``error`` outcome, never
    a server error for the member."""
    verifier = configured_verifier()
    try:
        return verifier.verify(name=name, id_type=id_type, id_number=id_number)
    except Exception:  # an adapter bug must not become a 500 on the member's page
        logger.exception("real-name verifier %s failed", verifier.name)
        return Result(outcome=Outcome.ERROR, provider=verifier.name, code="adapter_failure")


def record_attempt(
    *,
    by: Any,
    id_type: str,
    id_number: str,
    result: Result,
    channel: str,
    now: dt.datetime,
    request: HttpRequest | None,
    extra: dict[str, Any] | None = None,
) -> VerificationAttempt:
    """Write the attempt and its operation-log row (call inside the caller's transaction). The
    log row's object is the attempt, whose label names no one (a patient's ``str`` is their
    name); the patient is in its detail by id."""
    attempt = VerificationAttempt.objects.create(
        user=by,
        subject_index=subject_index(id_number),
        id_type=id_type,
        provider=result.provider,
        outcome=result.outcome,
        reference=result.reference[:64],
        code=result.code[:64],
        message=result.message[:200],
        channel=channel,
        created_at=now,
        **(extra or {}),
    )
    audit.record(
        actor=by,
        action="identity.verify",
        target=attempt,
        detail={
            "attempt": attempt.pk,
            "patient": attempt.patient_id,
            "provider": result.provider,
            "outcome": result.outcome,
            "reference": attempt.reference,
            "channel": channel,
        },
        outcome=AuditOutcome.SUCCESS if result.matched else AuditOutcome.FAILURE,
        request=request,
    )
    return attempt


def verify_identity(
    *,
    by: Any,
    name: str,
    id_type: str,
    id_number: str,
    channel: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> VerificationAttempt:
    """Check ``name`` with ``id_number`` at the configured provider for ``by`` (a member online,
    or staff at the desk) and log the attempt; the outcome is on the returned attempt.

    Bad input is refused before anything is counted; beyond the rate limits nothing is sent.
    """
    name, id_type, id_number = normalised(name=name, id_type=id_type, id_number=id_number)
    _count_attempt(by=by, id_number=id_number, channel=channel, request=request)
    result = ask_verifier(name=name, id_type=id_type, id_number=id_number)
    with transaction.atomic():
        return record_attempt(
            by=by,
            id_type=id_type,
            id_number=id_number,
            result=result,
            channel=channel,
            now=now or timezone.now(),
            request=request,
        )


def outcome_message(outcome: str) -> str:
    """What the person who asked is told about an outcome."""
    return {
        Outcome.MATCH: _("Verified: the name and the ID number match the national register."),
        Outcome.MISMATCH: _(
            "The name does not match the ID number. Check both against the ID card and try again."
        ),
        Outcome.NOT_FOUND: _(
            "The national register has no record of this ID number. Check the number, or "
            "verify at the front desk with the ID card."
        ),
        Outcome.ERROR: _(
            "The check could not be done right now. Please try again later, or verify at the "
            "front desk with the ID card."
        ),
    }[outcome]


# -- patients (就诊人) ----------------------------------------------------------------------------


def verify_patient(
    *,
    patient: Patient,
    by: Any,
    channel: str = Channel.ONLINE,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> VerificationAttempt:
    """Check the patient's name and ID number with the configured provider (the member online,
    or staff at the desk) and log the attempt; on a match the patient is verified, and from then
    on their name and ID number are fixed (members.patients.update_patient).

    The caller has decided that ``by`` may act for this patient (the member's own patient, or
    a desk login). Refused when already verified, without an ID number, or for a document the
    register does not hold (those are verified in person)."""
    if patient.is_verified:
        raise AlreadyVerified()
    if not patient.id_number:
        raise NotVerifiable(
            _("This patient has no ID number to verify. Add it first, or verify at the front desk.")
        )
    name, id_type, id_number = normalised(
        name=patient.name, id_type=patient.id_type, id_number=patient.id_number
    )
    _count_attempt(by=by, id_number=id_number, channel=channel, request=request)
    result = ask_verifier(name=name, id_type=id_type, id_number=id_number)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        attempt = record_attempt(
            by=by,
            id_type=id_type,
            id_number=id_number,
            result=result,
            channel=channel,
            now=now,
            request=request,
            extra={"patient": locked},
        )
        # Verified only if the record still says what was checked (not changed meanwhile).
        unchanged = (locked.name, locked.id_number) == (patient.name, patient.id_number)
        if result.matched and unchanged and locked.verified_at is None:
            locked.verified_at = now
            locked.verified_by = None  # online: no one at the desk looked at the document
            locked.save(update_fields=["verified_at", "verified_by"])
    patient.verified_at, patient.verified_by = locked.verified_at, locked.verified_by
    return attempt


@transaction.atomic
def confirm_in_person(
    *,
    patient: Patient,
    by: Any,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> VerificationAttempt:
    """The front desk saw the patient's original ID document and it matches the record
    (核验原件): the patient is verified by ``by`` (logged as an attempt with the provider
    ``in_person``, channel desk). Any document type; a child without an ID is verified through
    the guardian's ID, which the desk checks the same way."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.is_verified:
        raise AlreadyVerified()
    number = locked.id_number or locked.guardian_id_number
    if not number:
        raise NotVerifiable(_("Add the patient's ID number (or the guardian's) first."))
    now = now or timezone.now()
    attempt = record_attempt(
        by=by,
        id_type=locked.id_type,
        id_number=normalize_national_id(number),
        result=Result(outcome=Outcome.MATCH, provider=IN_PERSON, code="document_seen"),
        channel=Channel.DESK,
        now=now,
        request=request,
        extra={"patient": locked},
    )
    locked.verified_at, locked.verified_by = now, by
    locked.save(update_fields=["verified_at", "verified_by"])
    patient.verified_at, patient.verified_by = now, by
    return attempt
