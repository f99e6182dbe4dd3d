"""Condition: the diagnosis of a visit record (门诊病历, records.VisitRecord), one per record,
its ICD-10 code as the record's current version has it (an amended record shows its latest
version; ``meta.versionId`` is that version's number)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appointments.selectors.readable import Reader
from records.selectors import current_version, readable_records

from ..search import Query
from .base import Context, Param, ResourceType, instant, reference

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from records.models import VisitRecord

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def _codes(tokens: list[str] | None) -> list[str] | None:
    """The ICD-10 codes a ``code`` search names: ``I10`` or ``<ICD-10 system>|I10``; a code
    of another system (or of none: ``|I10``) is nothing MedBook holds."""
    if tokens is None:
        return None
    codes = []
    for token in tokens:
        system, bar, code = token.rpartition("|")
        if not bar or system == ICD10:
            codes.append(code)
    return codes


def _patients(query: Query) -> list[int] | None:
    """``patient`` and ``subject`` (both Patient/<id>): what both allow."""
    chosen = None
    for name in ("patient", "subject"):
        found = query.ids(name, "Patient")
        if found is not None:
            chosen = found if chosen is None else sorted(set(chosen) & set(found))
    return chosen


class ConditionType(ResourceType):
    """The diagnosis a doctor made at a visit: an encounter-diagnosis, confirmed, active when
    recorded; subject the patient, encounter the visit, recorder the doctor. The record's id
    is the Condition's. The advice, prescriptions and complaint are not part of it (they are
    the record's, not the diagnosis'). A staff login's reads are in the operation log as the
    record pages' are."""

    name = "Condition"
    params = {
        "_id": Param("token", "The condition's id (the visit record's)."),
        "patient": Param("reference", "The patient's diagnoses: Patient/<id>."),
        "subject": Param("reference", "The same as patient: Patient/<id>."),
        "encounter": Param("reference", "The visit's diagnosis: Encounter/<id>."),
        "code": Param(
            "token", f"An ICD-10 code (I10, or {ICD10}|I10), as the current version has it."
        ),
        "recorded-date": Param("date", "Recorded (the record written) then: eq, ge, gt, le, lt."),
    }

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> QuerySet[VisitRecord]:
        recorded_from, recorded_before = query.period("recorded-date")
        return readable_records(
            reader=reader,
            ids=ids if ids is not None else query.ids("_id"),
            patient_ids=_patients(query),
            appointment_ids=query.ids("encounter", "Encounter"),
            codes=_codes(query.tokens("code")),
            recorded_from=recorded_from,
            recorded_before=recorded_before,
        )

    def render(self, record: VisitRecord, context: Context) -> dict[str, Any]:
        version = current_version(record)
        diagnosis = version.diagnosis
        coding = {"system": ICD10, "code": version.diagnosis_code}
        code: dict[str, Any] = {"coding": [coding]}
        if diagnosis is not None:  # a code since dropped from the list keeps its code alone
            coding["display"] = diagnosis.name_en
            code["text"] = diagnosis.name
        if context.reader.is_staff:
            context.records.append(record.pk)
        doctor = record.doctor
        return {
            "resourceType": "Condition",
            "id": str(record.pk),
            "meta": {"versionId": str(version.number), "lastUpdated": instant(version.created_at)},
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            "category": [
                {
                    "coding": [
                        {
                            "system": CATEGORY,
                            "code": "encounter-diagnosis",
                            "display": "Encounter Diagnosis",
                        }
                    ]
                }
            ],
            "code": code,
            "subject": reference("Patient", record.patient_id, record.patient.name),
            "encounter": reference("Encounter", record.appointment_id),
            "recordedDate": instant(record.created_at),
            "recorder": reference("Practitioner", doctor.pk, doctor.name),
        }
