"""Reads for the triage page and "doctors for you": the scorer's departments with the clinic's
doctors, and a member's own history. Read-only, over the appointments app's selectors."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from django.utils import timezone

from appointments.choices import AppointmentStatus
from appointments.models import Department, Doctor
from appointments.selectors import (
    BOOKABLE_DAYS,
    appointments_for_member,
    catalogue_doctors,
    departments_with_open_counts,
)
from members.models import Member

from .scoring import Analysis, DepartmentScore, triage

# Departments and doctors shown for one description.
TOP_DEPARTMENTS = 3
DOCTORS_PER_DEPARTMENT = 3
# A visit this long ago suggests a follow-up (复诊) with the same doctor.
FOLLOW_UP_FROM = dt.timedelta(weeks=1)
FOLLOW_UP_UNTIL = dt.timedelta(weeks=4)
# How much a past appointment says about a member's needs, by how it ended.
VISIT_WEIGHTS = {
    AppointmentStatus.COMPLETED: 3,
    AppointmentStatus.CHECKED_IN: 2,
    AppointmentStatus.CONFIRMED: 1,
    AppointmentStatus.NO_SHOW: 0.5,
    AppointmentStatus.CANCELLED: 0.5,
}
SUGGESTIONS = 6


@dataclass(frozen=True)
class DoctorMatch:
    doctor: Doctor
    matched: tuple[tuple[str, str], ...]  # (specialty keyword, the symptom it answers)
    open_soon: bool  # a session open for booking within BOOKABLE_DAYS


@dataclass(frozen=True)
class DepartmentMatch:
    department: Department
    score: DepartmentScore
    said: tuple[str, ...]  # the symptoms as the member wrote them
    doctors: tuple[DoctorMatch, ...]


@dataclass(frozen=True)
class TriageResult:
    analysis: Analysis
    departments: tuple[DepartmentMatch, ...]

    @property
    def understood(self) -> bool:
        return bool(self.analysis.symptoms)


def _open_soon(doctor: Doctor, now: dt.datetime) -> bool:
    return doctor.next_open is not None and doctor.next_open < timezone.localdate(
        now
    ) + dt.timedelta(days=BOOKABLE_DAYS)


def _matches(doctor: Doctor, symptoms: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from .knowledge import knowledge

    terms = knowledge().terms
    specialties = (doctor.specialties or "").lower()
    found = []
    for name in symptoms:
        keyword = next((k for k in terms[name].keywords if k and k in specialties), None)
        if keyword is not None:
            found.append((keyword, name))
    return tuple(found)


def triage_result(*, text: str, now: dt.datetime) -> TriageResult:
    """The departments for ``text`` among the clinic's active ones, best first, each with up
    to three of its doctors: those with a session open in the next days first, then those whose
    specialties name the symptoms, then by seniority. Two queries."""
    departments = {d.code: d for d in departments_with_open_counts(now=now)}
    analysis = triage(text, available=set(departments))
    top = analysis.departments[:TOP_DEPARTMENTS]
    by_department: dict[str, list[Doctor]] = defaultdict(list)
    if top:
        for doctor in catalogue_doctors(now=now).filter(department__code__in=[d.code for d in top]):
            by_department[doctor.department.code].append(doctor)
    said = {}
    for found in analysis.found:
        if not found.negated:
            said.setdefault(found.term, found.said)
    rows = []
    for score in top:
        matches = [
            DoctorMatch(
                doctor=doctor,
                matched=_matches(doctor, score.terms),
                open_soon=_open_soon(doctor, now),
            )
            for doctor in by_department[score.code]
        ]
        matches.sort(key=lambda m: (not m.open_soon, -len(m.matched)))  # stable: seniority
        rows.append(
            DepartmentMatch(
                department=departments[score.code],
                score=score,
                said=tuple(dict.fromkeys(said.get(t, t) for t in score.terms)),
                doctors=tuple(matches[:DOCTORS_PER_DEPARTMENT]),
            )
        )
    return TriageResult(analysis=analysis, departments=tuple(rows))


@dataclass
class Suggestion:
    """A doctor suggested to a member, with why."""

    doctor: Doctor
    score: float
    visits: int = 0  # the member's attended visits with this doctor
    last_visit: dt.date | None = None
    follow_up: bool = False  # last visit 1-4 weeks ago and nothing booked since
    booked: dt.date | None = None  # an upcoming appointment with this doctor
    same_department: bool = False  # suggested as a colleague of a doctor visited
    open_soon: bool = False
    reasons: list[str] = field(default_factory=list)


def doctors_for_member(
    *, member: Member, now: dt.datetime, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """Doctors for ``member`` from their own history: those they have seen (completed visits
    count most), a follow-up first when the last visit was one to four weeks ago, and doctors
    of the same departments with a session open soon when their own doctor has none. Ranked
    by that history and availability. Three queries; none for a member without history."""
    today = timezone.localdate(now)
    past = (
        appointments_for_member(member=member, upcoming=False, now=now)
        .order_by()
        .values("schedule__doctor", "schedule__doctor__department")
        .annotate(
            **{f"n_{status}": Count("pk", filter=Q(status=status)) for status in VISIT_WEIGHTS},
            last_visit=Max(
                "schedule__date",
                filter=Q(status__in=[AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN]),
            ),
        )
    )
    history = list(past)
    if not history:
        return []
    upcoming = dict(
        appointments_for_member(member=member, upcoming=True, now=now)
        .order_by("-schedule__date")
        .values_list("schedule__doctor", "schedule__date")
    )
    seen = {row["schedule__doctor"]: row for row in history}
    department_weight: dict[int, float] = defaultdict(float)
    doctor_weight: dict[int, float] = {}
    for row in history:
        weight = sum(w * row[f"n_{status}"] for status, w in VISIT_WEIGHTS.items())
        doctor_weight[row["schedule__doctor"]] = weight
        department_weight[row["schedule__doctor__department"]] += weight
    doctors = catalogue_doctors(now=now).filter(
        Q(pk__in=list(seen)) | Q(department_id__in=list(department_weight))
    )
    suggestions = []
    for doctor in doctors:
        open_soon = _open_soon(doctor, now)
        row = seen.get(doctor.pk)
        if row is not None:
            visits = (
                row[f"n_{AppointmentStatus.COMPLETED}"] + row[f"n_{AppointmentStatus.CHECKED_IN}"]
            )
            last = row["last_visit"]
            booked = upcoming.get(doctor.pk)
            follow_up = (
                last is not None
                and booked is None
                and FOLLOW_UP_FROM <= today - last <= FOLLOW_UP_UNTIL
            )
            score = doctor_weight[doctor.pk] + (10 if follow_up else 0) + (2 if open_soon else 0)
            suggestions.append(
                Suggestion(
                    doctor=doctor,
                    score=score,
                    visits=visits,
                    last_visit=last,
                    follow_up=follow_up,
                    booked=booked,
                    open_soon=open_soon,
                )
            )
        elif open_soon:
            score = department_weight[doctor.department_id] * 0.5
            suggestions.append(
                Suggestion(doctor=doctor, score=score, same_department=True, open_soon=True)
            )
    # A colleague only when no doctor the member saw in that department has a session open.
    open_departments = {
        s.doctor.department_id for s in suggestions if not s.same_department and s.open_soon
    }
    suggestions.sort(key=lambda s: (-s.score, s.same_department))
    colleagues: dict[int, int] = defaultdict(int)
    kept = []
    for suggestion in suggestions:
        department = suggestion.doctor.department_id
        if suggestion.same_department:
            if department in open_departments or colleagues[department] >= 2:
                continue
            colleagues[department] += 1
        kept.append(suggestion)
    return kept[:limit]
