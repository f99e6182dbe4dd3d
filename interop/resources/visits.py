"""Appointment (a booking of a queue number) and Encounter (the visit, once checked in)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from appointments.choices import ACTIVE_STATUSES, AppointmentStatus
from appointments.models import Appointment
from appointments.selectors.readable import Reader, readable_appointments

from ..search import Query
from .base import Context, Param, ResourceType, instant, reference
from .scheduling import slot_id

# MedBook's appointment statuses in FHIR R4's (Appointment.status).
APPOINTMENT_STATUS = {
    AppointmentStatus.PENDING_PAYMENT: "pending",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.CHECKED_IN: "checked-in",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
STATUS_OF_CODE = {code: status for status, code in APPOINTMENT_STATUS.items()}
# A visit is an Encounter from check-in (签到) on.
VISITED = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_MINUTE = dt.timedelta(minutes=1)


def _patient(appointment: Appointment) -> dict[str, str]:
    if appointment.patient_id is None:  # a booking from before patients: the holder, by name
        return {"display": appointment.patient_name}
    return reference("Patient", appointment.patient_id, appointment.patient_name)


class AppointmentType(ResourceType):
    name = "Appointment"
    params = {
        "_id": Param("token", "The appointment's id."),
        "date": Param(
            "date", "Starting then (the estimated time of the queue number): eq, ge, gt, le, lt."
        ),
        "patient": Param("reference", "The patient's appointments: Patient/<id>."),
        "practitioner": Param("reference", "The doctor's appointments: Practitioner/<id>."),
        "status": Param("token", "pending, booked, checked-in, fulfilled, cancelled, noshow."),
    }

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> QuerySet[Appointment]:
        statuses = query.tokens("status", set(STATUS_OF_CODE))
        starts_from, starts_before = query.period("date")
        return readable_appointments(
            reader=reader,
            ids=ids if ids is not None else query.ids("_id"),
            patient_ids=query.ids("patient", "Patient"),
            doctor_ids=query.ids("practitioner", "Practitioner"),
            statuses=[STATUS_OF_CODE[s] for s in statuses] if statuses is not None else None,
            starts_from=starts_from,
            starts_before=starts_before,
        )

    def render(self, appointment: Appointment, context: Context) -> dict[str, Any]:
        schedule = appointment.schedule
        doctor = schedule.doctor
        start = dt.datetime.combine(
            schedule.date, appointment.estimated_time, tzinfo=timezone.get_current_timezone()
        )
        resource: dict[str, Any] = {
            "resourceType": "Appointment",
            "id": str(appointment.pk),
            "status": APPOINTMENT_STATUS[appointment.status],
            "serviceType": [{"text": doctor.department.name}],
            "start": instant(start),
            "end": instant(start + schedule.minutes_per_visit * _MINUTE),
            "minutesDuration": schedule.minutes_per_visit,
            "created": instant(appointment.created_at),
            "participant": [
                {"actor": _patient(appointment), "required": "required", "status": "accepted"},
                {
                    "actor": reference("Practitioner", doctor.pk, doctor.name),
                    "required": "required",
                    "status": "accepted",
                },
            ],
        }
        if appointment.status in ACTIVE_STATUSES:  # the number is still theirs
            resource["slot"] = [reference("Slot", slot_id(schedule.pk, appointment.queue_number))]
        if appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason:
            resource["cancelationReason"] = {"text": appointment.cancel_reason}
        return resource


class EncounterType(ResourceType):
    """A visit (就诊): an appointment checked in (arrived; in progress once called) or
    completed (finished); ambulatory, its period from check-in to completion. Its id is the
    appointment's."""

    name = "Encounter"
    params = {
        "_id": Param("token", "The visit's id (the appointment's)."),
        "date": Param("date", "Checked in then: eq, ge, gt, le, lt."),
        "patient": Param("reference", "The patient's visits: Patient/<id>."),
    }

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> QuerySet[Appointment]:
        checked_in_from, checked_in_before = query.period("date")
        return readable_appointments(
            reader=reader,
            ids=ids if ids is not None else query.ids("_id"),
            patient_ids=query.ids("patient", "Patient"),
            statuses=VISITED,
            checked_in_from=checked_in_from,
            checked_in_before=checked_in_before,
        )

    def render(self, appointment: Appointment, context: Context) -> dict[str, Any]:
        doctor = appointment.schedule.doctor
        if appointment.status == AppointmentStatus.COMPLETED:
            status = "finished"
        else:
            status = "in-progress" if appointment.called_at else "arrived"
        period = {"start": instant(appointment.checked_in_at)}
        if appointment.completed_at:
            period["end"] = instant(appointment.completed_at)
        subject = _patient(appointment)
        return {
            "resourceType": "Encounter",
            "id": str(appointment.pk),
            "status": status,
            "class": {"system": V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "serviceType": {"text": doctor.department.name},
            "subject": subject,
            "participant": [{"individual": reference("Practitioner", doctor.pk, doctor.name)}],
            "appointment": [reference("Appointment", appointment.pk)],
            "period": period,
        }
