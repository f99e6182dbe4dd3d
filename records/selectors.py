"""Reading visit records, each as a :class:`RecordView` ready to render: who may see which
(a member: their account's patients; a doctor: their own sessions' patients; the desk and
admins: any), the current version and the amended ones before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from appointments import selectors as appointment_selectors
from appointments.models import Appointment
from appointments.selectors.readable import Reader
from members.models import Member, Patient, User

from .models import RecordVersion, VisitRecord


@dataclass(frozen=True)
class RecordView:
    record: VisitRecord
    current: RecordVersion
    earlier: list[RecordVersion]  # amended versions, newest first

    @property
    def amended(self) -> bool:
        return bool(self.earlier)

    @property
    def patient(self) -> Patient:
        return self.record.patient

    @property
    def visit_day(self) -> dt.date:
        return self.record.appointment.schedule.date


def _records() -> QuerySet[VisitRecord]:
    return VisitRecord.objects.select_related(
        "patient", "doctor__department", "appointment__schedule"
    ).prefetch_related(
        Prefetch(
            "versions",
            queryset=RecordVersion.objects.select_related("author").order_by("-number"),
        )
    )


def _view(record: VisitRecord) -> RecordView:
    versions = list(record.versions.all())
    return RecordView(record=record, current=versions[0], earlier=versions[1:])


def member_records(*, member: Member, patient: Patient | None = None) -> list[RecordView]:
    """The records of the account's patients (of one of them with ``patient``), newest
    visit first."""
    rows = _records().filter(patient__member=member)
    if patient is not None:
        rows = rows.filter(patient=patient)
    ordered = rows.order_by("-appointment__schedule__date", "-created_at", "-pk")
    return [_view(record) for record in ordered]


def member_record(*, member: Member, pk: int) -> RecordView | None:
    """One record of the account's patients; another account's is None (a 404)."""
    record = _records().filter(patient__member=member, pk=pk).first()
    return _view(record) if record is not None else None


def may_read(*, user: User, record: VisitRecord) -> bool:
    """The desk and admins read any record; a doctor, those of their own sessions."""
    if user.has_perm("records.view_any_visit_record"):
        return True
    return user.has_perm("records.write_visit_record") and appointment_selectors.may_run_queue(
        user=user, schedule=record.appointment.schedule
    )


def staff_record(*, user: User, pk: int) -> RecordView | None:
    record = _records().select_related("appointment__schedule__doctor").filter(pk=pk).first()
    if record is None or not may_read(user=user, record=record):
        return None
    return _view(record)


def record_of_appointment(*, appointment: Appointment) -> RecordView | None:
    record = _records().filter(appointment=appointment).first()
    return _view(record) if record is not None else None


def records_for_export(*, member: Member) -> list[dict[str, Any]]:
    """Every version of every record of the account's patients, as plain rows (the member's
    data export)."""
    rows = []
    for view in reversed(member_records(member=member)):
        for version in reversed([view.current, *view.earlier]):
            diagnosis = version.diagnosis
            rows.append(
                {
                    "record": view.record.pk,
                    "version": version.number,
                    "patient": view.patient.name,
                    "visit_date": view.visit_day,
                    "doctor": view.record.doctor.name,
                    "department": view.record.doctor.department.name,
                    "chief_complaint": version.chief_complaint,
                    "diagnosis_code": version.diagnosis_code,
                    "diagnosis": diagnosis.name_zh if diagnosis else "",
                    "advice": version.advice,
                    "prescriptions": version.prescriptions,
                    "follow_up_on": version.follow_up_on,
                    "amendment_reason": version.amendment_reason,
                    "written_at": version.created_at,
                }
            )
    return rows


def readable_records(
    *,
    reader: Reader,
    ids: Iterable[int] | None = None,
    patient_ids: Iterable[int] | None = None,
    appointment_ids: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
    recorded_from: dt.datetime | None = None,
    recorded_before: dt.datetime | None = None,
) -> QuerySet[VisitRecord]:
    """The records ``reader`` (an integration's login: interop's FHIR Condition) may read,
    oldest first, each with its versions newest first (``current_version``). Scoped as the
    record pages are: a member their account's patients', the desk and admins any, a doctor
    their own sessions'; anyone else none. ``codes``: whose current diagnosis is one of these
    ICD-10 codes — the codes are encrypted, so this decrypts the current code of every record
    the other filters leave (narrow it by patient or date where you can)."""
    found = _records().order_by("created_at", "pk")
    user = reader.user
    if reader.member is not None:
        found = found.filter(patient__member=reader.member)
    elif reader.everything and user.has_perm("records.view_any_visit_record"):
        pass
    elif reader.reads_patients and user.has_perm("records.write_visit_record"):
        found = found.filter(appointment__schedule__doctor__user_id=user.pk)
    else:
        found = found.none()
    if ids is not None:
        found = found.filter(pk__in=list(ids))
    if patient_ids is not None:
        found = found.filter(patient_id__in=list(patient_ids))
    if appointment_ids is not None:
        found = found.filter(appointment_id__in=list(appointment_ids))
    if recorded_from is not None:
        found = found.filter(created_at__gte=recorded_from)
    if recorded_before is not None:
        found = found.filter(created_at__lt=recorded_before)
    if codes is not None:
        wanted = {code.strip().upper() for code in codes}
        newer = RecordVersion.objects.filter(
            record=OuterRef("record"), number__gt=OuterRef("number")
        )
        current = (
            RecordVersion.objects.filter(record__in=found.values("pk"))
            .exclude(Exists(newer))
            .values_list("record_id", "diagnosis_code")
        )
        found = found.filter(
            pk__in=[pk for pk, code in current.iterator() if code.strip().upper() in wanted]
        )
    return found


def current_version(record: VisitRecord) -> RecordVersion:
    """The record's current version (the newest), from the versions a selector fetched."""
    return _view(record).current
