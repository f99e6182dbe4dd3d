"""Reading visit records, each as a :class:`RecordView` ready to render: who may see which
(a member: their account's patients; a doctor: their own sessions' patients; the desk and
admins: any), the current version and the amended ones before it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from appointments import selectors as appointment_selectors
from appointments.models import Appointment
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
