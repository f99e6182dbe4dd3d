"""The clinic day in the staff console: today's board, check-in look-ups, the doctor's queue, the
waiting room, what a login may do with an appointment or a session, and the integrity checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from members.models import User
from members.selectors import MemberSearch

from ..choices import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    AppointmentStatus,
    Channel,
    ScheduleStatus,
)
from ..models import (
    Appointment,
    Doctor,
    Schedule,
)
from .floor import no_show_refusal

ON_BOARD = tuple(s for s in AppointmentStatus.values if s != AppointmentStatus.CANCELLED)
# Came to the desk today (a no-show after check-in has ``checked_in_at`` too).
CHECKED_IN_ONCE = (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


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
        .select_related("member", "patient")
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
    """The appointment called last among ``appointments`` (it stays "calling" after the visit)."""
    called = [a for a in appointments if a.called_at]
    return max(called, key=lambda a: a.called_at) if called else None


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


def staff_actions(
    *, appointment: Appointment, user: User, now: dt.datetime | None = None
) -> StaffActions:
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
        can_mark_no_show=runs_queue
        and no_show_refusal(
            appointment=appointment, schedule=appointment.schedule, now=now or timezone.now()
        )
        is None,
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


@dataclass(frozen=True)
class BoardFilters:
    """What the board shows: one department (by code), one doctor, one half of the day
    (``Session``), one status; and a search kept in the session (:meth:`from_query`)."""

    department: str = ""
    doctor: int | None = None
    session: str = ""
    status: str = ""
    number: int | None = None  # a queue number searched
    member: MemberSearch | None = None  # a name, or a phone or ID number by its blind index

    @property
    def searching(self) -> bool:
        return self.number is not None or self.member is not None

    @staticmethod
    def search_from_query(query: str) -> dict:
        """A search as it may be kept in the session (never a full phone or ID number): up to
        four digits are a queue number; anything else is a member search (full mobile or ID
        number through the blind index, else a name). Empty: no search."""
        query = (query or "").strip()
        if not query:
            return {}
        if query.isdigit() and len(query) <= 4:
            return {"number": int(query), "shown": query}
        search = MemberSearch.from_query(query)
        return {"member": search.as_dict(), "shown": search.shown}

    def with_search(self, kept: dict | None) -> BoardFilters:
        if not kept:
            return self
        member = kept.get("member")
        return BoardFilters(
            department=self.department,
            doctor=self.doctor,
            session=self.session,
            status=self.status,
            number=kept.get("number"),
            member=MemberSearch(**member) if member else None,
        )

    def schedules(self) -> dict[str, object]:
        """The filters on sessions, for ``Schedule`` queries."""
        found: dict[str, object] = {}
        if self.department:
            found["doctor__department__code"] = self.department
        if self.doctor is not None:
            found["doctor_id"] = self.doctor
        if self.session:
            found["session"] = self.session
        return found

    def appointments(self) -> Q:
        """The filters on the patients shown (status and search)."""
        where = Q()
        if self.status:
            where &= Q(status=self.status)
        if self.number is not None:
            where &= Q(queue_number=self.number)
        member = self.member
        if member is not None:
            if member.phone_index:  # the account's number, or the patient's own (就诊人)
                where &= Q(member__phone_index=member.phone_index) | Q(
                    patient__phone_index=member.phone_index
                )
            elif member.national_id_index:  # the account holder's, or the patient's (就诊人)
                where &= Q(member__national_id_index=member.national_id_index) | Q(
                    patient__id_number_index=member.national_id_index
                )
            elif member.name:
                where &= Q(member__name__icontains=member.name) | Q(
                    patient__name__icontains=member.name
                )
            else:
                where &= Q(pk__in=[])
        return where


def todays_board(
    *, today: dt.date, user: User, filters: BoardFilters | None = None, department: str = ""
) -> list[BoardSession]:
    """Today's board: every session of the day that ``filters`` keep, with its patients that
    they keep and the buttons ``user`` gets for each (two queries). With a status or a search,
    sessions without a patient found are left out."""
    filters = filters or BoardFilters(department=department)
    appointments = (
        Appointment.objects.filter(status__in=ON_BOARD)
        .filter(filters.appointments())
        .select_related("member", "patient")
        # Not shown on the board: ID numbers are not decrypted for every row.
        .defer("member__national_id", "patient__id_number", "patient__guardian_id_number")
        .order_by("queue_number")
    )
    sessions = (
        with_is_suspended(Schedule.objects.filter(date=today, **filters.schedules()))
        .exclude(status=ScheduleStatus.DRAFT)
        .select_related("doctor__department")
        .prefetch_related(Prefetch("appointments", queryset=appointments, to_attr="on_board"))
        .order_by("doctor__department__sort_order", "doctor__name", "start_time")
    )
    board = [
        BoardSession(schedule=schedule, rows=_staff_rows(schedule.on_board, user))
        for schedule in sessions
    ]
    if filters.status or filters.searching:
        board = [session for session in board if session.rows]
    return board


@dataclass(frozen=True)
class BoardTotals:
    """The day at a glance, at the top of the board."""

    sessions: int
    booked: int  # every appointment not cancelled
    checked_in: int  # checked in at some time today (waiting or seen since)
    waiting: int  # checked in, not seen yet
    seen: int
    no_shows: int
    walk_ins: int
    revenue: Decimal  # what the orders paid today (clinic day) brought in


def board_totals(*, today: dt.date, filters: BoardFilters | None = None) -> BoardTotals:
    """The totals of today's sessions that ``filters`` keep (department, doctor, half of the
    day; not status nor search): two aggregate queries, whatever the number of patients.
    Revenue is the amount of orders paid today, on the clinic's clock, for any day's visit."""
    filters = filters or BoardFilters()
    on_board = Q(appointments__status__in=ON_BOARD)
    counts = (
        Schedule.objects.filter(date=today, **filters.schedules())
        .exclude(status=ScheduleStatus.DRAFT)
        .aggregate(
            sessions=Count("pk", distinct=True),
            booked=Count("appointments", filter=on_board),
            checked_in=Count(
                "appointments",
                filter=on_board
                & (
                    Q(appointments__checked_in_at__isnull=False)
                    | Q(appointments__status__in=CHECKED_IN_ONCE)
                ),
            ),
            waiting=Count(
                "appointments", filter=Q(appointments__status=AppointmentStatus.CHECKED_IN)
            ),
            seen=Count("appointments", filter=Q(appointments__status=AppointmentStatus.COMPLETED)),
            no_shows=Count(
                "appointments", filter=Q(appointments__status=AppointmentStatus.NO_SHOW)
            ),
            walk_ins=Count(
                "appointments", filter=on_board & Q(appointments__channel=Channel.WALK_IN)
            ),
        )
    )
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    paid = Appointment.objects.filter(
        order__paid_at__gte=start, order__paid_at__lt=start + dt.timedelta(days=1)
    )
    for name, value in filters.schedules().items():
        paid = paid.filter(**{f"schedule__{name}": value})
    revenue = paid.aggregate(revenue=Sum("order__amount"))["revenue"] or Decimal("0")
    # To the cent: SQLite's SUM drops the scale (¥1181.5 on the board).
    return BoardTotals(**counts, revenue=revenue.quantize(Decimal("0.01")))


def staff_today(*, today: dt.date, user: User) -> list[BoardSession]:
    """Today's sessions a staff login looks after, with their patients and the buttons it gets:
    every session for the desk and clinic admins, a doctor's own otherwise (two queries)."""
    sees_all = user.has_perm("appointments.check_in_appointment") or user.has_perm(
        "appointments.change_schedule"
    )
    filters = {} if sees_all else {"doctor__user": user}
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
        "member", "patient", "schedule__doctor__department"
    )
    if member_id is not None:
        found = found.filter(member_id=member_id)
    else:
        found = found.filter(schedule_id=schedule_id, queue_number=number)
    return _staff_rows(list(found), user)


def to_check_in_by_number(
    *,
    today: dt.date,
    number: int,
    schedule_id: int | None = None,
    filters: BoardFilters | None = None,
) -> list[Appointment]:
    """Today's appointments with queue ``number`` that may still be checked in (confirmed, or
    awaiting payment: the service says why not), in one session when given, else among the
    sessions the board's ``filters`` show (a desk looking at one department means it)."""
    within = (filters or BoardFilters()).schedules()
    found = Appointment.objects.filter(
        **{f"schedule__{name}": value for name, value in within.items()},
        schedule__date=today,
        queue_number=number,
        status__in=(AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_PAYMENT),
    ).select_related("member", "patient", "schedule__doctor__department")
    if schedule_id is not None:
        found = found.filter(schedule_id=schedule_id)
    return list(found.order_by("schedule__start_time", "pk")[:10])


def doctor_for_staff(*, pk: int) -> Doctor | None:
    return Doctor.objects.filter(pk=pk).first()


def doctor_of(*, user: User) -> Doctor | None:
    """The doctor a login is, if any."""
    return Doctor.objects.filter(user=user).first()


def appointment_for_staff(*, pk: int) -> Appointment | None:
    return Appointment.objects.select_related("member", "patient").filter(pk=pk).first()


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


def appointments_with_foreign_patient() -> QuerySet[Appointment]:
    """Appointments whose patient is missing or belongs to another account (should be none:
    the booking service refuses another account's patient, the migration named the holder)."""
    return Appointment.objects.filter(
        Q(patient__isnull=True) | ~Q(patient__member=F("member"))
    ).order_by("pk")


def queue_numbers_out_of_range() -> QuerySet[Appointment]:
    """Active appointments whose queue number lies outside 1..capacity (should be none)."""
    return (
        Appointment.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(queue_number__lt=1) | Q(queue_number__gt=F("schedule__capacity")))
        .order_by("pk")
    )
