"""The clinic floor: the doctor's queue (叫号, 重呼, 过号, 未到诊) as the doctor sees it, the rule
that says when a no-show may be marked, and what the waiting-room screens show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.choices import choice_label
from medbook.errors import DomainError

from .. import exceptions as errors
from ..choices import AppointmentStatus, ScheduleStatus
from ..models import Appointment, Department, Schedule

# The waiting patients' order: a 过号 ranks them (ranked first), the rest by check-in.
WAITING_ORDER = (F("queue_rank").asc(nulls_last=True), "checked_in_at", "queue_number")
NEXT_SHOWN = 5  # how many coming numbers a waiting-room screen lists per room


def waiting_in_order(schedule_id: int) -> QuerySet[Appointment]:
    """A session's checked-in patients in queue order (called ones included)."""
    return Appointment.objects.filter(
        schedule_id=schedule_id, status=AppointmentStatus.CHECKED_IN
    ).order_by(*WAITING_ORDER)


def no_show_refusal(
    *, appointment: Appointment, schedule: Schedule, now: dt.datetime
) -> DomainError | None:
    """Why ``appointment`` may not be marked a no-show (未到诊) now, or None if it may: it must
    still be confirmed or checked in, the session must have begun, and a patient who checked in
    must be the one called now, called MEDBOOK_NO_SHOW_AFTER_CALLS times (the call and 重呼)
    without coming in. The service enforces this; the queue page offers the button by it."""
    if appointment.status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN):
        return errors.IllegalTransition(choice_label(appointment, "status"), _("marked no-show"))
    if now < schedule.starts_at:
        return errors.NoShowTooEarly(
            _("The session has not begun yet; a no-show can be marked once it has.")
        )
    if appointment.status == AppointmentStatus.CHECKED_IN:
        calls = settings.MEDBOOK_NO_SHOW_AFTER_CALLS
        if appointment.called_at is None or appointment.call_count < calls:
            return errors.NoShowTooEarly(
                _(
                    "Number %(n)d checked in. Call them again first: a patient who checked in "
                    "counts as not come only after %(calls)d calls."
                )
                % {"n": appointment.queue_number, "calls": calls}
            )
    return None


@dataclass(frozen=True)
class QueueView:
    """A session's queue as the doctor sees it, with what the doctor may do now."""

    calling: Appointment | None  # called and still checked in: with the doctor now
    also_called: list[Appointment]  # called earlier, not finished (complete or skip them)
    waiting: list[Appointment]  # checked in, not called, in queue order
    not_arrived: list[Appointment]
    done: list[Appointment]
    can_call_next: bool
    can_mark_no_show: bool
    average_visit: dt.timedelta | None  # the doctor's mean consultation today (call → complete)
    seen_today: int

    @property
    def average_minutes(self) -> str:
        """The average consultation in minutes, one decimal (— when nobody was seen)."""
        if self.average_visit is None:
            return "—"
        return f"{self.average_visit.total_seconds() / 60:.1f}"


def queue_view(*, schedule: Schedule, now: dt.datetime) -> QueueView:
    """The doctor's queue page (three queries)."""
    patients = list(
        schedule.appointments.filter(
            status__in=[
                AppointmentStatus.CONFIRMED,
                AppointmentStatus.CHECKED_IN,
                AppointmentStatus.COMPLETED,
                AppointmentStatus.NO_SHOW,
            ]
        )
        .select_related("member", "patient")
        .order_by(*WAITING_ORDER)
    )
    checked_in = [a for a in patients if a.status == AppointmentStatus.CHECKED_IN]
    called = sorted((a for a in checked_in if a.called_at), key=lambda a: a.called_at)
    calling = called[-1] if called else None
    waiting = [a for a in checked_in if a.called_at is None]
    average, seen = average_visit(doctor_id=schedule.doctor_id, day=schedule.date)
    return QueueView(
        calling=calling,
        also_called=called[:-1],
        waiting=waiting,
        not_arrived=sorted(
            (a for a in patients if a.status == AppointmentStatus.CONFIRMED),
            key=lambda a: a.queue_number,
        ),
        done=sorted(
            (
                a
                for a in patients
                if a.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
            ),
            key=lambda a: a.completed_at or a.no_show_at or now,
            reverse=True,
        ),
        can_call_next=bool(waiting),
        can_mark_no_show=calling is not None
        and no_show_refusal(appointment=calling, schedule=schedule, now=now) is None,
        average_visit=average,
        seen_today=seen,
    )


def average_visit(*, doctor_id: int, day: dt.date) -> tuple[dt.timedelta | None, int]:
    """The mean consultation (last call → completed) of a doctor's visits completed on ``day``,
    and how many there were."""
    spans = [
        completed - called
        for called, completed in Appointment.objects.filter(
            schedule__doctor_id=doctor_id,
            schedule__date=day,
            status=AppointmentStatus.COMPLETED,
            called_at__isnull=False,
            completed_at__isnull=False,
        ).values_list("called_at", "completed_at")
        if completed >= called
    ]
    if not spans:
        return None, 0
    return sum(spans, dt.timedelta()) / len(spans), len(spans)


# The waiting-room screens --------------------------------------------------------------------


def call_id(appointment: Appointment) -> str:
    """One call of a patient: the screen speaks each id once (a 重呼 makes a new one)."""
    return f"{appointment.pk}-{appointment.call_count}"


def spoken_call(*, number: int, name: str, room: str, doctor: str) -> str:
    """What the screen says for a call: 请 3号 王*明 到 3诊室 就诊 (always in Chinese)."""
    place = room or f"{doctor}医生诊室"
    return f"请 {number}号 {name} 到 {place} 就诊"


def _patient(appointment: Appointment) -> dict:
    return {"number": appointment.queue_number, "name": appointment.patient_masked_name}


def display_state(*, department: Department | None, now: dt.datetime) -> dict:
    """What a waiting-room screen shows (one department's, or the clinic's when None), as
    JSON-ready data with masked names only: each released session of today with the number
    it calls and the next ones, and the calls of the moment (newest first) to speak. Names of
    departments and rooms are in the page's language; what is spoken is always Chinese."""
    today = timezone.localdate(now)
    sessions = (
        Schedule.objects.filter(date=today, status=ScheduleStatus.PUBLISHED)
        .select_related("doctor__department")
        .order_by("doctor__department__sort_order", "doctor__name", "start_time")
    )
    if department is not None:
        sessions = sessions.filter(doctor__department=department)
    sessions = list(sessions)
    patients = (
        Appointment.objects.filter(
            schedule__in=[s.pk for s in sessions], status=AppointmentStatus.CHECKED_IN
        )
        .select_related("member", "patient")
        .order_by(*WAITING_ORDER)
    )
    by_session: dict[int, list[Appointment]] = {}
    for appointment in patients:
        by_session.setdefault(appointment.schedule_id, []).append(appointment)
    rooms, calls = [], []
    local_time = timezone.localtime(now).time()
    for schedule in sessions:
        queue = by_session.get(schedule.pk, [])
        called = sorted((a for a in queue if a.called_at), key=lambda a: a.called_at)
        waiting = [a for a in queue if a.called_at is None]
        if schedule.end_time <= local_time and not queue:
            continue  # over, nobody left: off the screen
        current = called[-1] if called else None
        doctor = schedule.doctor
        if current is not None:
            patient = _patient(current)
            calls.append(
                {
                    "id": call_id(current),
                    "at": current.called_at.isoformat(),
                    **patient,
                    "room": schedule.local_room,
                    "doctor": doctor.name,
                    "department": doctor.department.local_name,
                    "speech": spoken_call(room=schedule.room, doctor=doctor.name, **patient),
                }
            )
        rooms.append(
            {
                "session": schedule.pk,
                "doctor": doctor.name,
                "title": doctor.get_title_display(),
                "department": doctor.department.local_name,
                "room": schedule.local_room,
                "calling": _patient(current) if current else None,
                "next": [_patient(a) for a in waiting[:NEXT_SHOWN]],
                "waiting": len(waiting),
            }
        )
    calls.sort(key=lambda c: c["at"], reverse=True)
    return {
        "department": department.local_name if department else None,
        "now": timezone.localtime(now).isoformat(),
        "calls": calls,
        "rooms": rooms,
    }
