"""Patients (就诊人) of an account: who they are, adding, correcting and removing them, and the
one a booking is for.

An account holds its holder (本人, made with the account) and up to ``MEDBOOK_MAX_PATIENTS``
patients in all. An ID number belongs to one patient record in the whole clinic: a second
account adding it is refused (the clinic merges on request, in person). A verified patient's
name and ID number are fixed. A removed patient is kept for the appointments that name it.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook import audit
from medbook.crypto import blind_index
from medbook.errors import DomainError, Invalid
from medbook.personal_data import normalize_national_id, normalize_phone, validate_national_id

from .models import NATIONAL_ID_PURPOSE, Gender, IdType, Member, Patient, Relation, User

CHILD_WITHOUT_ID_MAX_AGE = 16  # a resident ID card is optional below this age

_PATTERNS: dict[str, re.Pattern[str]] = {
    IdType.HK_MACAO_PASS: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    IdType.TAIWAN_PASS: re.compile(r"^\d{8}(\d{2})?$"),
    IdType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    IdType.FOREIGN_PERMANENT: re.compile(r"^(9\d{16}[\dX]|[A-Z]{3}\d{12})$"),
}
_PERMIT_PREFIXES = ("81", "82", "83")  # 港澳台居民居住证: Hong Kong, Macao, Taiwan


class PatientIdTaken(DomainError):
    code = "patient_id_taken"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _(
                "This ID number is already registered with another account. If it is the "
                "same person, bring the ID to the front desk and the clinic will merge the "
                "records."
            ),
            field="id_number",
        )


class TooManyPatients(DomainError):
    code = "too_many_patients"
    status = 409

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("An account may hold at most %(n)d patients. Remove one to add another.")
            % {"n": limit}
        )


class PatientHasAppointment(DomainError):
    code = "patient_has_appointment"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _("This patient has an appointment ahead. Cancel it first, then remove the patient.")
        )


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def validate_id_number(*, id_type: str, id_number: str) -> str:
    """``id_number`` normalised for its type, or Invalid saying what is wrong with it."""
    value = normalize_national_id(id_number).replace(" ", "")
    if id_type == IdType.NONE:
        return ""
    if not value:
        raise Invalid(_("Please enter the ID number."), field="id_number")
    if id_type in (IdType.RESIDENT, IdType.RESIDENCE_PERMIT):
        try:
            value = validate_national_id(value)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="id_number") from exc
        if id_type == IdType.RESIDENCE_PERMIT and not value.startswith(_PERMIT_PREFIXES):
            raise Invalid(
                _("A residence permit number starts with 81, 82 or 83."), field="id_number"
            )
        return value
    pattern = _PATTERNS.get(id_type)
    if pattern is None:
        raise Invalid(_("Please choose the type of ID."), field="id_type")
    if not pattern.match(value):
        raise Invalid(
            _("This does not look like a valid number for this type of ID."), field="id_number"
        )
    return value


def facts_from_resident_id(value: str) -> tuple[dt.date, str]:
    """The birth date and sex a (valid) 18-character resident ID number holds."""
    birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    return birth, Gender.MALE if int(value[16]) % 2 else Gender.FEMALE


def _cleaned(
    *,
    name: str,
    relation: str,
    id_type: str,
    id_number: str,
    gender: str,
    birth_date: dt.date | None,
    phone: str,
    guardian_name: str,
    guardian_id_number: str,
    today: dt.date,
) -> dict[str, object]:
    """The fields of a patient, checked and completed, or Invalid naming the field."""
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Please enter the patient's name as on their ID."), field="name")
    if len(name) > Patient._meta.get_field("name").max_length:
        raise Invalid(_("The name is too long."), field="name")
    if relation not in Relation.values:
        raise Invalid(_("Please choose who the patient is to you."), field="relation")
    if id_type not in IdType.values:
        raise Invalid(_("Please choose the type of ID."), field="id_type")
    if gender not in Gender.values:
        raise Invalid(_("Please choose the patient's sex."), field="gender")
    if relation == Relation.SELF and not (id_number or "").strip():
        id_number = ""  # the holder's ID is not on file yet: the desk adds it at the first visit
    else:
        id_number = validate_id_number(id_type=id_type, id_number=id_number)
    if id_number and id_type in (IdType.RESIDENT, IdType.RESIDENCE_PERMIT):
        birth_date, gender = facts_from_resident_id(id_number)
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="phone") from exc
    guardian_name = (guardian_name or "").strip()
    if id_type == IdType.NONE:
        if relation != Relation.CHILD:
            raise Invalid(
                _("Only a child may be registered without an ID; please enter the ID number."),
                field="id_type",
            )
        if birth_date is None or birth_date > today:
            raise Invalid(_("Please enter the child's date of birth."), field="birth_date")
        if _age_on(birth_date, today) >= CHILD_WITHOUT_ID_MAX_AGE:
            raise Invalid(
                _("A child aged %(n)d or over is registered with their ID card.")
                % {"n": CHILD_WITHOUT_ID_MAX_AGE},
                field="id_type",
            )
        if gender == Gender.UNDISCLOSED:
            raise Invalid(_("Please choose the patient's sex."), field="gender")
        if not guardian_name:
            raise Invalid(_("Please enter the guardian's name."), field="guardian_name")
        try:
            guardian_id_number = validate_national_id(guardian_id_number)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="guardian_id_number") from exc
    else:
        guardian_name, guardian_id_number = "", ""
    return {
        "name": name,
        "relation": relation,
        "id_type": id_type,
        "id_number": id_number,
        "gender": gender,
        "birth_date": birth_date,
        "phone": phone or "",
        "guardian_name": guardian_name,
        "guardian_id_number": guardian_id_number,
    }


def _save(patient: Patient) -> Patient:
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        if "patient_id_number_unique" in str(exc):
            raise PatientIdTaken() from exc
        if "patient_one_self" in str(exc):
            raise Invalid(_("The account holder is already a patient."), field="relation") from exc
        raise
    return patient


# ----------------------------------------------------------------------------- selectors


def member_patients(*, member: Member, include_removed: bool = False) -> QuerySet[Patient]:
    """The account's patients, the holder first."""
    patients = Patient.objects.filter(member=member)
    if not include_removed:
        patients = patients.filter(removed_at__isnull=True)
    holder_first = Case(
        When(relation=Relation.SELF, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return patients.order_by(holder_first, "created_at", "pk")


def bookable_patients(*, member: Member) -> list[Patient]:
    """The patients a booking may be for, the holder first (made now if an older account has
    none yet, so the default is always the holder)."""
    # Each with its insurance card, if any (one join, not a query per booking for the split);
    # the card's number, which only a settlement needs, stays in the database until then.
    patients = list(
        member_patients(member=member)
        .select_related("insurance_card")
        .defer("insurance_card__card_number")
    )
    if not patients or not patients[0].is_self:
        patients.insert(0, ensure_self_patient(member=member))
    return patients


def member_patient(*, member: Member, pk: int) -> Patient:
    """One of the account's current patients; any other is a 404, as if it did not exist."""
    patient = Patient.objects.filter(member=member, pk=pk, removed_at__isnull=True).first()
    if patient is None:
        raise Http404("no such patient")
    return patient


def self_patient(*, member: Member) -> Patient:
    """The account holder as a patient (made now if an older account has none yet)."""
    found = Patient.objects.filter(member=member, relation=Relation.SELF).first()
    return found or ensure_self_patient(member=member)


def patient_for_booking(*, member: Member, patient_id: object) -> Patient:
    """The patient a booking is for: ``patient_id`` of the account's current patients, or the
    holder when none is given. Invalid when it is not one of theirs (never another account's)."""
    if patient_id in (None, ""):
        return self_patient(member=member)
    try:
        pk = int(str(patient_id))
    except ValueError:
        pk = 0
    patient = Patient.objects.filter(member=member, pk=pk, removed_at__isnull=True).first()
    if patient is None:
        raise Invalid(_("Please choose one of your patients."), field="patient")
    return patient


def patient_by_id_number(*, id_number: str) -> Patient | None:
    """The patient with this ID number, in any account (staff search)."""
    value = normalize_national_id(id_number)
    if not value:
        return None
    index = blind_index(value, purpose=NATIONAL_ID_PURPOSE)
    return Patient.objects.select_related("member").filter(id_number_index=index).first()


# ----------------------------------------------------------------------------- services


def ensure_self_patient(*, member: Member) -> Patient:
    """The holder's own patient record, from the account's details (idempotent)."""
    found = Patient.objects.filter(member=member, relation=Relation.SELF).first()
    if found is not None:
        return found
    patient = Patient(
        member=member,
        name=member.name,
        relation=Relation.SELF,
        id_type=IdType.RESIDENT,
        id_number=member.national_id or "",
        gender=member.gender,
        birth_date=member.birth_date,
        created_at=member.registered_at,
    )
    try:
        return _save(patient)
    except (PatientIdTaken, Invalid):
        # Another record holds the ID (or a racing request made the holder): the holder is
        # still a patient, with the ID left for the desk to sort out.
        found = Patient.objects.filter(member=member, relation=Relation.SELF).first()
        if found is not None:
            return found
        patient.pk, patient.id_number = None, ""
        return _save(patient)


def add_patient(
    *,
    member: Member,
    name: str,
    relation: str,
    id_type: str = IdType.RESIDENT,
    id_number: str = "",
    gender: str = Gender.UNDISCLOSED,
    birth_date: dt.date | None = None,
    phone: str = "",
    guardian_name: str = "",
    guardian_id_number: str = "",
    by: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Patient:
    """Add a patient to the account (logged). Raises Invalid, TooManyPatients or
    PatientIdTaken; writes nothing then. The holder's own record is made with the account."""
    now = now or timezone.now()
    if relation == Relation.SELF:
        raise Invalid(_("The account holder is already a patient."), field="relation")
    fields = _cleaned(
        name=name,
        relation=relation,
        id_type=id_type,
        id_number=id_number,
        gender=gender,
        birth_date=birth_date,
        phone=phone,
        guardian_name=guardian_name,
        guardian_id_number=guardian_id_number,
        today=timezone.localdate(now),
    )
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).first()  # one add at a time
        limit = settings.MEDBOOK_MAX_PATIENTS
        if member_patients(member=member).count() >= limit:
            raise TooManyPatients(limit)
        removed = None
        if fields["id_number"]:
            index = blind_index(str(fields["id_number"]), purpose=NATIONAL_ID_PURPOSE)
            removed = Patient.objects.filter(
                member=member, id_number_index=index, removed_at__isnull=False
            ).first()
        patient = removed or Patient(member=member, created_at=now)
        for field, value in fields.items():
            setattr(patient, field, value)
        patient.removed_at = None
        _save(patient)
        audit.record(
            actor=by or member.user,
            action="patient.add",
            target=patient,
            target_label=str(patient),
            detail={"relation": relation, "id_type": id_type},
            request=request,
        )
    return patient


def update_patient(
    *,
    patient: Patient,
    changes: dict[str, object],
    by: User | None = None,
    request: HttpRequest | None = None,
) -> Patient:
    """Correct a patient's details (logged). A verified patient's name and ID are fixed; the
    holder stays the holder, and their name and ID are the account's: the member does not
    change them here (the front desk corrects them, with the ID card)."""
    by_holder = by is None or by.pk == patient.member.user_id
    fixed = {"name", "id_type", "id_number"} if patient.is_verified else set()
    if patient.is_self and by_holder:
        fixed = {"name", "id_type", "id_number"}
    fields = {
        "name": patient.name,
        "relation": patient.relation,
        "id_type": patient.id_type,
        "id_number": patient.id_number,
        "gender": patient.gender,
        "birth_date": patient.birth_date,
        "phone": patient.phone,
        "guardian_name": patient.guardian_name,
        "guardian_id_number": patient.guardian_id_number,
    }
    for field, value in changes.items():
        if field not in fields:
            raise Invalid(_("This cannot be changed here."), field=field)
        if field in fixed and value != fields[field]:
            raise Invalid(
                _("The name and ID of a verified patient cannot be changed.")
                if patient.is_verified
                else _("Your own name and ID are corrected at the front desk, with your ID card."),
                field=field,
            )
        if field == "relation" and (value == Relation.SELF) != patient.is_self:
            raise Invalid(_("The account holder stays the account holder."), field=field)
        fields[field] = value
    cleaned = _cleaned(today=timezone.localdate(), **fields)  # type: ignore[arg-type]
    with transaction.atomic():
        changed = [name for name, value in cleaned.items() if getattr(patient, name) != value]
        for name in changed:
            setattr(patient, name, cleaned[name])
        if changed:
            _save(patient)
            audit.record(
                actor=by or patient.member.user,
                action="patient.change",
                target=patient,
                target_label=str(patient),
                detail={"fields": changed},
                request=request,
            )
    return patient


def remove_patient(
    *,
    patient: Patient,
    by: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Patient:
    """Take a patient off the account's list (kept for their appointments' history, logged).
    Not the holder, and not while they have an appointment ahead."""
    now = now or timezone.now()
    if patient.is_self:
        raise Invalid(_("The account holder cannot be removed."))
    # Through the relation (members sits below appointments and does not import it).
    ahead = patient.appointments.ahead(timezone.localdate(now)).exists()
    if ahead:
        raise PatientHasAppointment()
    with transaction.atomic():
        patient.removed_at = now
        patient.save(update_fields=["removed_at"])
        audit.record(
            actor=by or patient.member.user,
            action="patient.remove",
            target=patient,
            target_label=str(patient),
            request=request,
        )
    return patient
