"""Reads for real-name verification: the patient a page is about (scoped to who asks), the
patients the desk sees with their verification state, and the attempts shown to the member."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from members.models import Member, Patient
from members.patients import member_patient, member_patients

from .choices import ONLINE_ID_TYPES
from .models import VerificationAttempt


@dataclass(frozen=True)
class VerificationState:
    """What a page shows about one patient's verification and what the viewer may do."""

    patient: Patient
    can_verify_online: bool  # not verified yet, with a document the register holds
    why_not_online: str  # "" or why the member must go to the desk
    attempts: list[VerificationAttempt]


def member_patient_verification(*, member: Member, pk: int) -> VerificationState:
    """One of the member's own patients (anyone else's is a 404) and their verification."""
    from django.utils.translation import gettext as _

    patient = member_patient(member=member, pk=pk)
    why = ""
    if patient.is_verified:
        why = _("Verified.")
    elif patient.id_type not in ONLINE_ID_TYPES:
        why = _(
            "Only mainland resident ID cards can be verified online. Please bring the "
            "document to the front desk."
        )
    elif not patient.id_number:
        why = _("This patient has no ID number yet. Please ask the front desk to add it.")
    attempts = list(
        VerificationAttempt.objects.filter(patient=patient).order_by("-created_at", "-pk")[:5]
    )
    return VerificationState(
        patient=patient, can_verify_online=not why, why_not_online=why, attempts=attempts
    )


def desk_patient(*, pk: int) -> Patient:
    """A current patient of any account, for the front desk (404 when there is none)."""
    patient = (
        Patient.objects.select_related("member", "verified_by")
        .filter(pk=pk, removed_at__isnull=True)
        .first()
    )
    if patient is None:
        raise Http404("no such patient")
    return patient


def desk_patients(*, member: Member) -> QuerySet[Patient]:
    """The account's current patients with who verified them and the last attempt's outcome
    (one query)."""
    last = VerificationAttempt.objects.filter(patient=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        member_patients(member=member)
        .select_related("verified_by")
        .annotate(last_outcome=Subquery(last.values("outcome")[:1]))
    )
