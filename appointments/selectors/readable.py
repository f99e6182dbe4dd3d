"""What a login may read of the clinic's records, for integrations (the FHIR read API,
interop/): patients, doctors, sessions and appointments, each scoped as the member pages and
the staff console scope them, with the filters a search needs.

* a member reads their own account: its patients (removed ones too: their appointments still
  name them) and its appointments;
* the front desk and clinic admins (``appointments.view_appointment``) read every patient and
  appointment;
* a doctor (``appointments.run_queue`` alone) reads the appointments of their own sessions
  and the patients of those appointments, as their queue shows them;
* anyone else (a finance login) reads no patient record.

The catalogue (doctors, sessions) is what the public pages show — active doctors, sessions
other than drafts — and everything for staff who see schedules.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from medbook.crypto import blind_index
from medbook.personal_data import normalize_national_id
from members.models import NATIONAL_ID_PURPOSE, Member, Patient, User
from members.patients import member_patients
from members.selectors import member_for_user

from ..choices import ACTIVE_STATUSES, ScheduleStatus
from ..models import Appointment, Doctor, Schedule

__all__ = [
    "Reader",
    "held_numbers",
    "readable_appointments",
    "readable_doctors",
    "readable_patients",
    "readable_schedules",
    "reader_for",
]

SEES_ALL = "appointments.view_appointment"
RUNS_QUEUE = "appointments.run_queue"
SEES_SCHEDULES = "appointments.view_schedule"


@dataclass(frozen=True)
class Reader:
    """Whose records a login reads: a member's account, a doctor's own sessions, or all."""

    user: User
    member: Member | None = None
    everything: bool = False
    own_sessions: bool = False

    @property
    def is_staff(self) -> bool:
        return self.member is None

    @property
    def reads_patients(self) -> bool:
        return self.member is not None or self.everything or self.own_sessions

    @property
    def sees_drafts(self) -> bool:
        """Staff who see schedules see sessions not yet released too."""
        return self.member is None and self.user.has_perm(SEES_SCHEDULES)

    @property
    def may_unmask(self) -> bool:
        """Full phone and ID numbers (every look logged by the caller)."""
        return self.member is None and self.user.has_perm("members.view_personal_data")


def reader_for(*, user: User) -> Reader:
    member = member_for_user(user_id=user.pk)
    if member is not None:
        return Reader(user=user, member=member)
    if user.has_perm(SEES_ALL):
        return Reader(user=user, everything=True)
    return Reader(user=user, own_sessions=user.has_perm(RUNS_QUEUE))


def readable_doctors(*, reader: Reader, ids: Iterable[int] | None = None) -> QuerySet[Doctor]:
    doctors = Doctor.objects.select_related("department").order_by("pk")
    if not reader.is_staff:
        doctors = doctors.filter(is_active=True)
    return doctors if ids is None else doctors.filter(pk__in=list(ids))


def readable_schedules(
    *,
    reader: Reader,
    ids: Iterable[int] | None = None,
    doctor_ids: Iterable[int] | None = None,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> QuerySet[Schedule]:
    """Sessions by date and time: not drafts (nor of inactive doctors) unless ``reader`` sees
    schedules as staff; optionally some, some doctors', or those of ``first_day``..``last_day``."""
    schedules = Schedule.objects.select_related("doctor__department").order_by(
        "date", "start_time", "pk"
    )
    if not reader.sees_drafts:
        schedules = schedules.exclude(status=ScheduleStatus.DRAFT).filter(doctor__is_active=True)
    if ids is not None:
        schedules = schedules.filter(pk__in=list(ids))
    if doctor_ids is not None:
        schedules = schedules.filter(doctor_id__in=list(doctor_ids))
    if first_day is not None:
        schedules = schedules.filter(date__gte=first_day)
    if last_day is not None:
        schedules = schedules.filter(date__lte=last_day)
    return schedules


def held_numbers(*, schedule_ids: Iterable[int]) -> dict[int, set[int]]:
    """The queue numbers active appointments hold, by session (one query)."""
    held: dict[int, set[int]] = defaultdict(set)
    rows = Appointment.objects.filter(
        schedule_id__in=list(schedule_ids), status__in=ACTIVE_STATUSES
    ).values_list("schedule_id", "queue_number")
    for schedule_id, number in rows:
        held[schedule_id].add(number)
    return held


def _own_sessions(reader: Reader) -> Q:
    return Q(schedule__doctor__user_id=reader.user.pk)


def readable_patients(
    *,
    reader: Reader,
    ids: Iterable[int] | None = None,
    id_numbers: Iterable[str] | None = None,
    name: str | None = None,
) -> QuerySet[Patient]:
    """The patients ``reader`` may read, oldest first; optionally those with one of
    ``id_numbers`` (found through the blind index) or a name starting with ``name``."""
    if reader.member is not None:
        patients = member_patients(member=reader.member, include_removed=True)
    elif reader.everything:
        patients = Patient.objects.all()
    elif reader.own_sessions:
        seen = Appointment.objects.filter(_own_sessions(reader)).values("patient_id")
        patients = Patient.objects.filter(pk__in=seen)
    else:
        patients = Patient.objects.none()
    patients = patients.select_related("member").order_by("pk")
    if ids is not None:
        patients = patients.filter(pk__in=list(ids))
    if id_numbers is not None:
        indexes = [
            blind_index(normalize_national_id(number).replace(" ", ""), purpose=NATIONAL_ID_PURPOSE)
            for number in id_numbers
        ]
        patients = patients.filter(id_number_index__in=indexes)
    if name is not None:
        patients = patients.filter(name__istartswith=name)
    return patients


def _starting(field_date: str, field_time: str, moment: dt.datetime, *, before: bool) -> Q:
    """Rows whose (date, time of day) on the clinic's clock is before ``moment`` (or at or
    after it): a comparison the (date) indexes can serve."""
    local = timezone.localtime(moment)
    day, time = local.date(), local.time()
    if before:
        return Q(**{f"{field_date}__lt": day}) | Q(**{field_date: day, f"{field_time}__lt": time})
    return Q(**{f"{field_date}__gt": day}) | Q(**{field_date: day, f"{field_time}__gte": time})


def readable_appointments(
    *,
    reader: Reader,
    ids: Iterable[int] | None = None,
    patient_ids: Iterable[int] | None = None,
    doctor_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
    starts_from: dt.datetime | None = None,
    starts_before: dt.datetime | None = None,
    checked_in_from: dt.datetime | None = None,
    checked_in_before: dt.datetime | None = None,
) -> QuerySet[Appointment]:
    """The appointments ``reader`` may read, by when they start (the estimated time), with
    patient, account, session, doctor and department; each filter optional."""
    found = Appointment.objects.select_related(
        "patient", "member", "schedule__doctor__department"
    ).order_by("schedule__date", "estimated_time", "pk")
    if reader.member is not None:
        found = found.filter(member=reader.member)
    elif reader.own_sessions and not reader.everything:
        found = found.filter(_own_sessions(reader))
    elif not reader.everything:
        found = found.none()
    if ids is not None:
        found = found.filter(pk__in=list(ids))
    if patient_ids is not None:
        found = found.filter(patient_id__in=list(patient_ids))
    if doctor_ids is not None:
        found = found.filter(schedule__doctor_id__in=list(doctor_ids))
    if statuses is not None:
        found = found.filter(status__in=list(statuses))
    if starts_from is not None:
        found = found.filter(
            _starting("schedule__date", "estimated_time", starts_from, before=False)
        )
    if starts_before is not None:
        found = found.filter(
            _starting("schedule__date", "estimated_time", starts_before, before=True)
        )
    if checked_in_from is not None:
        found = found.filter(checked_in_at__gte=checked_in_from)
    if checked_in_before is not None:
        found = found.filter(checked_in_at__lt=checked_in_before)
    return found
