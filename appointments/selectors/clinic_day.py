"""The clinic day in the staff console: today's board, check-in look-ups, the doctor's queue, the
waiting room, what a login may do with an appointment or a session, and the integrity checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from members.models import User

from ..choices import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    AppointmentStatus,
    ScheduleStatus,
)
from ..models import (
    Appointment,
    Department,
    Doctor,
    Schedule,
)

ON_BOARD = tuple(s for s in AppointmentStatus.values if s != AppointmentStatus.CANCELLED)


def with_is_suspended(schedules: QuerySet[Schedule]) -> QuerySet[Schedule]:
    """``schedules``, each with ``is_suspended`` (停诊), for lists that mark such sessions."""
    return schedules.annotate(
        is_suspended=ExpressionWrapper(
            Q(status=ScheduleStatus.SUSPENDED), output_field=BooleanField()
        )
    )


def may_run_queue(*, user: User, schedule: Schedule) -> bool:
    """Doctors run their own queue; clinic staff with the permission run any."""
    if user.has_perm("appointments.change_schedule"):
        return True
    return user.has_perm("appointments.run_queue") and schedule.doctor.user_id == user.pk


def todays_sessions(*, today: dt.date, **filters: object) -> QuerySet[Schedule]:
    """Today's sessions (not drafts) by department and doctor, each with ``on_board``: its
    appointments and their members, by queue number (two queries)."""
    appointments = (
        Appointment.objects.filter(status__in=ON_BOARD)
        .select_related("member")
        .order_by("queue_number")
    )
    return (
        with_is_suspended(Schedule.objects.filter(date=today, **filters))
        .exclude(status=ScheduleStatus.DRAFT)
        .select_related("doctor__department")
        .prefetch_related(Prefetch("appointments", queryset=appointments, to_attr="on_board"))
        .order_by("doctor__department__sort_order", "doctor__name", "start_time")
    )


def sessions_run_by(*, user: User, today: dt.date) -> list[Schedule]:
    """Today's sessions whose queue ``user`` runs: their own as a doctor, all for clinic admins."""
    sessions = Schedule.objects.filter(date=today).select_related("doctor__department")
    if not user.has_perm("appointments.change_schedule"):
        sessions = sessions.filter(doctor__user=user)
    return list(sessions.exclude(status=ScheduleStatus.DRAFT).order_by("start_time", "doctor"))


def last_called(appointments: list[Appointment]) -> Appointment | None:
    called = [a for a in appointments if a.called_at]
    return max(called, key=lambda a: a.called_at) if called else None


@dataclass(frozen=True)
class QueueState:
    """A session's queue as the doctor sees it."""

    calling: Appointment | None  # called and still checked in: with the doctor now
    waiting: list[Appointment]  # checked in, not called yet, in check-in order
    not_arrived: list[Appointment]
    done: list[Appointment]


def queue_state(*, schedule: Schedule) -> QueueState:
    patients = list(
        schedule.appointments.filter(status__in=ON_BOARD)
        .select_related("member")
        .order_by("checked_in_at", "queue_number")
    )
    checked_in = [a for a in patients if a.status == AppointmentStatus.CHECKED_IN]
    return QueueState(
        calling=last_called(checked_in),
        waiting=[a for a in checked_in if a.called_at is None],
        not_arrived=[a for a in patients if a.status == AppointmentStatus.CONFIRMED],
        done=[
            a
            for a in patients
            if a.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
        ],
    )


@dataclass(frozen=True)
class WaitingRoomRow:
    schedule: Schedule
    calling: Appointment | None  # the number last called (it stays up after the visit)
    waiting: int


def waiting_room(*, department: Department, today: dt.date) -> list[WaitingRoomRow]:
    """What the screen in a department's waiting area shows: no names, only numbers."""
    return [
        WaitingRoomRow(
            schedule=schedule,
            calling=last_called(schedule.on_board),
            waiting=sum(
                1
                for a in schedule.on_board
                if a.status == AppointmentStatus.CHECKED_IN and a.called_at is None
            ),
        )
        for schedule in todays_sessions(
            today=today, doctor__department=department, status=ScheduleStatus.PUBLISHED
        )
    ]


def coming_sessions(*, doctor: Doctor, today: dt.date, days: int = 14) -> QuerySet[Schedule]:
    return (
        with_is_suspended(
            Schedule.objects.filter(
                doctor=doctor, date__gt=today, date__lte=today + dt.timedelta(days=days)
            )
        )
        .exclude(status=ScheduleStatus.DRAFT)
        .order_by("date", "start_time")
    )


@dataclass(frozen=True)
class StaffActions:
    """What a staff login may do with one appointment now."""

    can_check_in: bool
    can_cancel: bool
    can_complete: bool
    can_mark_no_show: bool


def staff_actions(*, appointment: Appointment, user: User) -> StaffActions:
    """The console's buttons for ``appointment``: check in a confirmed visit, cancel one that
    holds a slot and has not begun, complete or mark a no-show in a queue the login runs.
    The services decide again when the button is used; this only says what to offer."""
    status = appointment.status
    runs_queue = may_run_queue(user=user, schedule=appointment.schedule)
    return StaffActions(
        can_check_in=status == AppointmentStatus.CONFIRMED
        and user.has_perm("appointments.check_in_appointment"),
        can_cancel=status in CANCELLABLE_STATUSES
        and user.has_perm("appointments.cancel_any_appointment"),
        can_complete=status == AppointmentStatus.CHECKED_IN and runs_queue,
        can_mark_no_show=status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
        and runs_queue,
    )


@dataclass(frozen=True)
class StaffRow:
    """An appointment on a console page, with what the login may do with it."""

    appointment: Appointment
    actions: StaffActions


def _staff_rows(appointments: list[Appointment], user: User) -> list[StaffRow]:
    return [
        StaffRow(appointment=a, actions=staff_actions(appointment=a, user=user))
        for a in appointments
    ]


@dataclass(frozen=True)
class BoardSession:
    """One of today's sessions on the board (``schedule.is_suspended`` marks 停诊), with its
    patients by queue number."""

    schedule: Schedule
    rows: list[StaffRow]


def todays_board(*, today: dt.date, user: User, department: str = "") -> list[BoardSession]:
    """Today's board: every session of the day (of one department, by its code, when given)
    with its patients and the buttons ``user`` gets for each (two queries)."""
    filters = {"doctor__department__code": department} if department else {}
    return [
        BoardSession(schedule=schedule, rows=_staff_rows(schedule.on_board, user))
        for schedule in todays_sessions(today=today, **filters)
    ]


def check_in_matches(
    *,
    today: dt.date,
    user: User,
    member_id: int | None = None,
    schedule_id: int | None = None,
    number: int | None = None,
) -> list[StaffRow]:
    """Today's appointments (not cancelled) of one member, or the one with ``number`` in a
    session: what the desk found to check in."""
    found = Appointment.objects.filter(schedule__date=today, status__in=ON_BOARD).select_related(
        "member", "schedule__doctor__department"
    )
    if member_id is not None:
        found = found.filter(member_id=member_id)
    else:
        found = found.filter(schedule_id=schedule_id, queue_number=number)
    return _staff_rows(list(found), user)


def doctor_for_staff(*, pk: int) -> Doctor | None:
    return Doctor.objects.filter(pk=pk).first()


def doctor_of(*, user: User) -> Doctor | None:
    """The doctor a login is, if any."""
    return Doctor.objects.filter(user=user).first()


def appointment_for_staff(*, pk: int) -> Appointment | None:
    return Appointment.objects.select_related("member").filter(pk=pk).first()


def queue_session(*, user: User, pk: int) -> Schedule | None:
    """A session whose queue ``user`` runs (another doctor's is None, as a missing one)."""
    schedule = Schedule.objects.select_related("doctor").filter(pk=pk).first()
    if schedule is None or not may_run_queue(user=user, schedule=schedule):
        return None
    return schedule


def queue_appointment(*, user: User, pk: int) -> Appointment | None:
    """An appointment in a queue ``user`` runs (another doctor's patient is None)."""
    appointment = Appointment.objects.select_related("schedule__doctor").filter(pk=pk).first()
    if appointment is None or not may_run_queue(user=user, schedule=appointment.schedule):
        return None
    return appointment


def schedule_for_staff(*, pk: int) -> Schedule | None:
    return Schedule.objects.select_related("doctor__department").filter(pk=pk).first()


@dataclass(frozen=True)
class ScheduleActions:
    """What the session page offers a login: suspending (停诊) a session not yet over."""

    is_suspended: bool
    can_suspend: bool


def schedule_actions(*, schedule: Schedule, user: User) -> ScheduleActions:
    over = schedule.status in (ScheduleStatus.SUSPENDED, ScheduleStatus.FINISHED)
    return ScheduleActions(
        is_suspended=schedule.status == ScheduleStatus.SUSPENDED,
        can_suspend=not over and user.has_perm("appointments.suspend_schedule"),
    )


def walk_in_sessions(*, now: dt.datetime) -> QuerySet[Schedule]:
    """Today's released sessions that have not ended: where a walk-in may go."""
    local = timezone.localtime(now)
    return (
        Schedule.objects.filter(
            date=local.date(), status=ScheduleStatus.PUBLISHED, end_time__gt=local.time()
        )
        .select_related("doctor__department")
        .order_by("doctor__department__sort_order", "doctor__name", "start_time")
    )


def schedules_with_counter_drift() -> QuerySet[Schedule]:
    """Schedules whose ``booked`` differs from their active appointments (should be none)."""
    return (
        Schedule.objects.annotate(
            active=Count("appointments", filter=Q(appointments__status__in=ACTIVE_STATUSES))
        )
        .exclude(booked=F("active"))
        .order_by("pk")
    )


def queue_numbers_out_of_range() -> QuerySet[Appointment]:
    """Active appointments whose queue number lies outside 1..capacity (should be none)."""
    return (
        Appointment.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(queue_number__lt=1) | Q(queue_number__gt=F("schedule__capacity")))
        .order_by("pk")
    )
