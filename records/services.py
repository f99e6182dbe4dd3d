"""Writing visit records: the doctor's record at the end of a visit, amendments, and the
operation-log row of every staff view of a record.

Completing the visit and writing its record is one transaction (billing.complete_visit awards
the points inside it): a record that is refused leaves the patient checked in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from billing import services as billing_services
from medbook import audit
from medbook.errors import Invalid
from members.models import User

from . import icd10
from .exceptions import AlreadyWritten, NotAtVisit
from .models import RecordVersion, VisitRecord

CHIEF_COMPLAINT_MAX = 500
TEXT_MAX = 2000
PRESCRIPTION_LINES_MAX = 30
REASON_MAX = 200
FOLLOW_UP_DAYS_MAX = 366


@dataclass(frozen=True)
class RecordText:
    """What a doctor writes (every version holds all of it)."""

    chief_complaint: str
    diagnosis_code: str
    advice: str = ""
    prescriptions: str = ""
    follow_up_on: dt.date | None = None


def _cleaned(text: RecordText, *, visit_day: dt.date) -> RecordText:
    """The text with spaces trimmed and blank prescription lines dropped; a refusal (Invalid,
    on its field) for what breaks a rule."""
    complaint = " ".join(text.chief_complaint.split())
    if not complaint:
        raise Invalid(_("Write the chief complaint."), field="chief_complaint")
    if len(complaint) > CHIEF_COMPLAINT_MAX:
        raise Invalid(
            _("The chief complaint is too long: at most %(n)d characters.")
            % {"n": CHIEF_COMPLAINT_MAX},
            field="chief_complaint",
        )
    found = icd10.diagnosis(text.diagnosis_code)
    if found is None:
        raise Invalid(_("Choose the diagnosis from the ICD-10 list."), field="diagnosis_code")
    advice = text.advice.strip()
    if len(advice) > TEXT_MAX:
        raise Invalid(
            _("The advice is too long: at most %(n)d characters.") % {"n": TEXT_MAX},
            field="advice",
        )
    lines = [line.strip() for line in text.prescriptions.splitlines() if line.strip()]
    if len(lines) > PRESCRIPTION_LINES_MAX or sum(map(len, lines)) > TEXT_MAX:
        raise Invalid(
            _("Too many prescriptions: at most %(n)d lines.") % {"n": PRESCRIPTION_LINES_MAX},
            field="prescriptions",
        )
    follow_up = text.follow_up_on
    if follow_up is not None and not (
        visit_day < follow_up <= visit_day + dt.timedelta(days=FOLLOW_UP_DAYS_MAX)
    ):
        raise Invalid(
            _("The follow-up date must be after the visit and within a year."),
            field="follow_up_on",
        )
    return RecordText(
        chief_complaint=complaint,
        diagnosis_code=found.code,
        advice=advice,
        prescriptions="\n".join(lines),
        follow_up_on=follow_up,
    )


def _add_version(
    *, record: VisitRecord, number: int, text: RecordText, by: User, reason: str, now: dt.datetime
) -> RecordVersion:
    version = RecordVersion(
        record=record,
        number=number,
        chief_complaint=text.chief_complaint,
        diagnosis_code=text.diagnosis_code,
        advice=text.advice,
        prescriptions=text.prescriptions,
        follow_up_on=text.follow_up_on,
        amendment_reason=reason,
        author=by,
        created_at=now,
    )
    try:
        with transaction.atomic():
            version.save()
    except IntegrityError as exc:  # another amendment took this number meanwhile
        raise AlreadyWritten(_("The record was amended meanwhile: reload it.")) from exc
    return version


@transaction.atomic
def write_record(
    *,
    appointment: Appointment,
    text: RecordText,
    by: User,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> VisitRecord:
    """The doctor's record of ``appointment``: a checked-in visit is completed with it (points
    and all, one transaction); a visit completed without one gets it now. One record per
    visit (AlreadyWritten: amend it); logged as ``visit_record.write``."""
    now = now or timezone.now()
    text = _cleaned(text, visit_day=appointment.schedule.date)
    if VisitRecord.objects.filter(appointment_id=appointment.pk).exists():
        raise AlreadyWritten()
    appointment.refresh_from_db(fields=["status"])  # a concurrent completion loses below (409)
    if appointment.status == AppointmentStatus.CHECKED_IN:
        appointment = billing_services.complete_visit(appointment=appointment, by=by, now=now)
    elif appointment.status != AppointmentStatus.COMPLETED:
        raise NotAtVisit()
    record = VisitRecord(
        appointment=appointment,
        patient_id=appointment.patient_id,
        doctor_id=appointment.schedule.doctor_id,
        created_at=now,
    )
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:  # the visit's record exists (or is being written)
        raise AlreadyWritten() from exc
    _add_version(record=record, number=1, text=text, by=by, reason="", now=now)
    audit.record(actor=by, action="visit_record.write", target=record, request=request)
    return record


@transaction.atomic
def amend_record(
    *,
    record: VisitRecord,
    text: RecordText,
    reason: str,
    by: User,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> RecordVersion:
    """A correction: a new version with its reason; the earlier ones stay as they were.
    Logged as ``visit_record.amend`` with the new version's number."""
    now = now or timezone.now()
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid(_("Say why the record is amended."), field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(
            _("The reason is too long: at most %(n)d characters.") % {"n": REASON_MAX},
            field="reason",
        )
    text = _cleaned(text, visit_day=record.appointment.schedule.date)
    latest = record.versions.order_by("-number").first()
    if latest is not None and text == RecordText(
        chief_complaint=latest.chief_complaint,
        diagnosis_code=latest.diagnosis_code,
        advice=latest.advice,
        prescriptions=latest.prescriptions,
        follow_up_on=latest.follow_up_on,
    ):
        raise Invalid(_("Nothing was changed: the record stays as it is."))
    number = (latest.number if latest else 0) + 1
    version = _add_version(record=record, number=number, text=text, by=by, reason=reason, now=now)
    audit.record(
        actor=by,
        action="visit_record.amend",
        target=record,
        detail={"version": number},
        request=request,
    )
    return version


def log_staff_view(
    *, record: VisitRecord, by: User, what: str, request: HttpRequest | None = None
) -> None:
    """A staff login read the record (``what``: page, pdf or form): in the operation log."""
    audit.record(actor=by, action=f"visit_record.view_{what}", target=record, request=request)


def log_staff_reads(
    *, record_ids: list[int], by: User, through: str, request: HttpRequest | None = None
) -> None:
    """A staff login read these records through an integration (``through``: fhir): one
    operation-log row naming them by id."""
    audit.record(
        actor=by,
        action=f"visit_record.view_{through}",
        target_type="records.visitrecord",
        target_label=" ".join(f"#{pk}" for pk in record_ids),
        detail={"records": record_ids},
        request=request,
    )
