"""Patient (members.Patient, 就诊人) and Practitioner (appointments.Doctor)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from appointments.models import Doctor
from appointments.selectors.readable import Reader, readable_doctors, readable_patients
from medbook.personal_data import mask_national_id, mask_phone
from members.models import Gender, IdType, Patient

from ..search import Query
from .base import Context, Param, ResourceType

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
# The identifier type (HL7 v2 table 0203) of the documents that have one.
ID_TYPE_CODES = {
    IdType.RESIDENT: "NI",  # national unique individual identifier: 居民身份证
    IdType.RESIDENCE_PERMIT: "NI",
    IdType.FOREIGN_PERMANENT: "NI",
    IdType.PASSPORT: "PPN",
}
GENDERS = {Gender.MALE: "male", Gender.FEMALE: "female"}


def id_system(id_type: str) -> str:
    """The identifier system of one kind of ID document, in the clinic's own namespace."""
    return f"{settings.MEDBOOK_PUBLIC_URL.rstrip('/')}/fhir/sid/{id_type}"


class PatientType(ResourceType):
    """就诊人. ID and phone numbers are masked (as the API masks them: 110101********1234,
    138****1234, ``meta.security`` MASKED) unless the login may see personal data in full
    (clinic admins), and then every look is written to the operation log."""

    name = "Patient"
    params = {
        "_id": Param("token", "The patient's id."),
        "name": Param("string", "The name starts with this (case-insensitive)."),
        "identifier": Param(
            "token", "An ID number in full (value, or system|value); found by its blind index."
        ),
    }

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> QuerySet[Patient]:
        ids = ids if ids is not None else query.ids("_id")
        numbers = query.tokens("identifier")
        if numbers is not None:
            numbers = [_identifier_value(token) for token in numbers]
        return readable_patients(
            reader=reader,
            ids=ids,
            id_numbers=[n for n in numbers if n] if numbers is not None else None,
            name=query.text("name"),
        )

    def render(self, patient: Patient, context: Context) -> dict[str, Any]:
        unmask = context.reader.may_unmask
        phone = patient.phone or (patient.member.phone if patient.is_self else "")
        resource: dict[str, Any] = {"resourceType": "Patient", "id": str(patient.pk)}
        if not unmask and (patient.id_number or phone):
            resource["meta"] = {"security": [{"system": V3_OBSERVATION_VALUE, "code": "MASKED"}]}
        elif patient.id_number or phone:
            context.unmasked.append(patient.pk)
        if patient.id_number:
            kind: dict[str, Any] = {"text": str(patient.get_id_type_display())}
            if patient.id_type in ID_TYPE_CODES:
                kind["coding"] = [{"system": V2_0203, "code": ID_TYPE_CODES[patient.id_type]}]
            resource["identifier"] = [
                {
                    "use": "official",
                    "type": kind,
                    "system": id_system(patient.id_type),
                    "value": patient.id_number if unmask else mask_national_id(patient.id_number),
                }
            ]
        resource["active"] = patient.removed_at is None
        resource["name"] = [{"use": "official", "text": patient.name}]
        if phone:
            value = phone if unmask else mask_phone(phone)
            resource["telecom"] = [{"system": "phone", "value": value, "use": "mobile"}]
        resource["gender"] = GENDERS.get(patient.gender, "unknown")
        if patient.birth_date:
            resource["birthDate"] = patient.birth_date.isoformat()
        return resource


def _identifier_value(token: str) -> str:
    """The value of an identifier token: ``value``, ``|value`` or ``system|value`` with one of
    our systems ("" for a system not ours: nothing matches)."""
    system, sep, value = token.rpartition("|")
    if not sep or not system:
        return value
    return value if system in {id_system(kind) for kind in IdType.values} else ""


class PractitionerType(ResourceType):
    """A doctor (医生): name, title (qualification), active."""

    name = "Practitioner"
    patient_data = False
    params = {"_id": Param("token", "The doctor's id.")}

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> Sequence[Doctor]:
        return readable_doctors(reader=reader, ids=ids if ids is not None else query.ids("_id"))

    def render(self, doctor: Doctor, context: Context) -> dict[str, Any]:
        return {
            "resourceType": "Practitioner",
            "id": str(doctor.pk),
            "active": doctor.is_active,
            "name": [{"use": "official", "text": doctor.name}],
            "qualification": [{"code": {"text": str(doctor.get_title_display())}}],
        }
