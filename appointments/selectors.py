"""Reads of schedules and appointments, ready to render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from members.models import Member, MemberLevel, User
from members.selectors import member_for_user

from . import exceptions as errors
from .choices import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    UPCOMING_STATUSES,
    AppointmentStatus,
    DoctorTitle,
    ScheduleStatus,
)
from .models import (
    Appointment,
    Department,
    Doctor,
    Holiday,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
)


def opens_at_for(*, schedule: Schedule, level: MemberLevel | None) -> dt.datetime:
    """When members of ``level`` may start booking ``schedule`` (the public time without one)."""
    lead = dt.timedelta(hours=level.booking_lead_hours) if level else dt.timedelta(0)
    return schedule.release_at - lead


def upcoming_appointment_count(*, member: Member, now: dt.datetime) -> int:
    """Appointments that still lie ahead of the member (the level's max_active_appointments)."""
    return Appointment.objects.filter(
        member=member,
        status__in=UPCOMING_STATUSES,
        schedule__date__gte=timezone.localdate(now),
    ).count()


@dataclass(frozen=True)
class MemberBookings:
    """What a member holds right now, read once for a page that lists many schedules."""

    schedule_ids: frozenset[int]  # schedules with an active appointment of the member
    upcoming: int  # upcoming appointments (against the level's max_active_appointments)
    department_days: frozenset[tuple[dt.date, int]]  # (date, department) already booked


def member_bookings(*, member: Member, now: dt.datetime) -> MemberBookings:
    held = Appointment.objects.filter(member=member, status__in=ACTIVE_STATUSES).filter(
        schedule__date__gte=timezone.localdate(now)
    )
    rows = list(
        held.values_list("schedule_id", "status", "schedule__date", "schedule__doctor__department")
    )
    return MemberBookings(
        schedule_ids=frozenset(row[0] for row in rows),
        upcoming=sum(1 for row in rows if row[1] in UPCOMING_STATUSES),
        department_days=frozenset((row[2], row[3]) for row in rows),
    )


def booking_blocker(
    *,
    schedule: Schedule,
    member: Member | None,
    now: dt.datetime,
    bookings: MemberBookings | None = None,
    staff_override: bool = False,
) -> errors.AppointmentError | None:
    """Why ``member`` cannot book ``schedule`` at ``now``, or None when they can.

    ``staff_override`` (staff booking with a reason) lifts the member's own limits: opening
    time, a no-show ban and the level's cap; never capacity, status or a double booking.

    The booking service calls this with both rows locked, which makes the answer final; other
    callers get an answer that is true at the moment of reading. ``bookings`` (from
    :func:`member_bookings`) saves two queries per schedule on pages that list many.
    """
    if schedule.status == ScheduleStatus.SUSPENDED:
        return errors.ScheduleSuspended()
    # Online booking closes when the session starts; the desk may still add a patient who is
    # here until it ends.
    closes_at = schedule.ends_at if staff_override else schedule.starts_at
    if schedule.status == ScheduleStatus.FINISHED or now >= closes_at:
        return errors.ScheduleInPast()
    if schedule.status != ScheduleStatus.PUBLISHED:
        return errors.ScheduleUnavailable()
    opens_at = opens_at_for(schedule=schedule, level=member.level if member else None)
    if now < opens_at and not staff_override:
        return errors.NotYetOpen(opens_at)
    if member is None:
        return errors.SoldOut() if schedule.remaining == 0 else None
    if member.is_banned(now) and not staff_override:
        return errors.MemberBanned(member.banned_until)
    if bookings is not None:
        already = schedule.pk in bookings.schedule_ids
    else:
        already = schedule.appointments.filter(member=member, status__in=ACTIVE_STATUSES).exists()
    if already:
        return errors.AlreadyBooked()
    if schedule.remaining == 0:
        return errors.SoldOut()
    if settings.MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY and not staff_override:
        department_id = schedule.doctor.department_id
        if bookings is not None:
            same_day = (schedule.date, department_id) in bookings.department_days
        else:
            same_day = (
                Appointment.objects.filter(
                    member=member,
                    status__in=ACTIVE_STATUSES,
                    schedule__date=schedule.date,
                    schedule__doctor__department_id=department_id,
                )
                .exclude(schedule=schedule)
                .exists()
            )
        if same_day:
            return errors.OneVisitPerDepartmentDay()
    limit = member.level.max_active_appointments
    upcoming = (
        bookings.upcoming
        if bookings is not None
        else upcoming_appointment_count(member=member, now=now)
    )
    if upcoming >= limit and not staff_override:
        return errors.TierLimitReached(limit, member.level.name)
    return None


def cancellation_cutoff(schedule: Schedule) -> dt.datetime:
    """Until when a member may cancel without the late-cancellation privilege."""
    return schedule.starts_at - dt.timedelta(hours=settings.MEDBOOK_CANCEL_CUTOFF_HOURS)


def cancel_blocker(
    *, appointment: Appointment, by: User | None, now: dt.datetime
) -> errors.AppointmentError | None:
    """Why ``by`` cannot cancel ``appointment`` at ``now``, or None when they can.

    Members may cancel their own appointment until the cutoff before the session, later only if
    their level may cancel late; staff with ``appointments.cancel_any_appointment`` and MedBook
    itself (``by=None``) at any time. The cancel service asks this with the rows locked.
    """
    staff = by is None or by.has_perm("appointments.cancel_any_appointment")
    if not staff and appointment.member.user_id != by.pk:
        return errors.NotAllowed()
    cancellable = CANCELLABLE_STATUSES
    if by is None:  # MedBook itself, e.g. a suspended session: also patients already here
        cancellable = (*CANCELLABLE_STATUSES, AppointmentStatus.CHECKED_IN)
    if appointment.status not in cancellable:
        return errors.NotCancellable(appointment.get_status_display())
    if not staff:
        schedule = appointment.schedule
        if now >= schedule.starts_at:
            return errors.SessionStarted()
        if now >= cancellation_cutoff(schedule) and not appointment.member.level.can_cancel_late:
            return errors.CancellationClosed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS)
    return None


class AvailabilityState:
    BOOKABLE = "bookable"
    FULL = "full"
    NOT_OPEN = "not_open"
    SUSPENDED = "suspended"
    PAST = "past"
    CLOSED = "closed"


_STATE_OF_ERROR = {
    errors.SoldOut: AvailabilityState.FULL,
    errors.NotYetOpen: AvailabilityState.NOT_OPEN,
    errors.ScheduleSuspended: AvailabilityState.SUSPENDED,
    errors.ScheduleInPast: AvailabilityState.PAST,
    errors.ScheduleUnavailable: AvailabilityState.CLOSED,
}


@dataclass(frozen=True)
class Availability:
    """What a viewer can do with a schedule right now, and why not."""

    state: str
    remaining: int
    capacity: int
    opens_at: dt.datetime
    public_opens_at: dt.datetime
    blocker: errors.AppointmentError | None

    @property
    def can_book(self) -> bool:
        return self.blocker is None

    # What the schedule list shows (templates ask these instead of comparing ``state``).
    @property
    def is_bookable(self) -> bool:
        return self.state == AvailabilityState.BOOKABLE

    @property
    def is_full(self) -> bool:
        return self.state == AvailabilityState.FULL

    @property
    def is_not_open(self) -> bool:
        return self.state == AvailabilityState.NOT_OPEN

    @property
    def is_suspended(self) -> bool:
        return self.state == AvailabilityState.SUSPENDED

    @property
    def message(self) -> str:
        return self.blocker.message if self.blocker else ""


def schedule_availability(
    *,
    schedule: Schedule,
    member: Member | None = None,
    now: dt.datetime | None = None,
    bookings: MemberBookings | None = None,
) -> Availability:
    """Availability of ``schedule`` for ``member`` (or the public) at ``now``.

    The state describes the schedule (bookable, full, not yet open, suspended, past); the
    blocker also covers the member's own limits (already booked, banned, tier limit).
    """
    now = now or timezone.now()
    blocker = booking_blocker(schedule=schedule, member=member, now=now, bookings=bookings)
    state = _STATE_OF_ERROR.get(type(blocker), AvailabilityState.BOOKABLE)
    if state == AvailabilityState.BOOKABLE and schedule.remaining == 0:
        state = AvailabilityState.FULL
    return Availability(
        state=state,
        remaining=schedule.remaining,
        capacity=schedule.capacity,
        opens_at=opens_at_for(schedule=schedule, level=member.level if member else None),
        public_opens_at=schedule.release_at,
        blocker=blocker,
    )


# Doctors are listed by seniority: 主任医师 first.
TITLE_RANK = Case(
    *(When(title=title, then=Value(rank)) for rank, title in enumerate(DoctorTitle.values)),
    default=Value(len(DoctorTitle.values)),
)


def open_schedules(now: dt.datetime) -> QuerySet[Schedule]:
    """Published sessions still ahead, open to the public and with slots left."""
    local = timezone.localtime(now)
    return Schedule.objects.filter(
        Q(date__gt=local.date()) | Q(date=local.date(), start_time__gt=local.time()),
        status=ScheduleStatus.PUBLISHED,
        release_at__lte=now,
        booked__lt=F("capacity"),
    )


def doctors_with_next_slot(now: dt.datetime | None = None) -> QuerySet[Doctor]:
    """Active doctors by seniority, each with ``next_open``: the date of their next session
    with slots left (None when there is none)."""
    next_open = (
        open_schedules(now or timezone.now())
        .filter(doctor=OuterRef("pk"))
        .order_by("date", "start_time")
        .values("date")[:1]
    )
    return (
        Doctor.objects.filter(is_active=True)
        .annotate(next_open=Subquery(next_open))
        .order_by(TITLE_RANK, "name")
    )


def departments_with_doctors(now: dt.datetime | None = None) -> QuerySet[Department]:
    """Active departments, each with its active doctors prefetched (two queries)."""
    return Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("doctors", queryset=doctors_with_next_slot(now), to_attr="active_doctors")
    )


def search_doctors(*, query: str, now: dt.datetime | None = None) -> QuerySet[Doctor]:
    """Doctors whose name, department or specialties contain ``query`` (one query)."""
    query = query.strip()[:50]
    return (
        doctors_with_next_slot(now)
        .filter(
            Q(name__icontains=query)
            | Q(department__name__icontains=query)
            | Q(specialties__icontains=query),
            department__is_active=True,
        )
        .select_related("department")
    )


def schedules_for_doctor(*, doctor: Doctor, start: dt.date, days: int) -> QuerySet[Schedule]:
    """A doctor's visible schedules from ``start`` for ``days`` days."""
    return (
        Schedule.objects.filter(
            doctor=doctor,
            date__gte=start,
            date__lt=start + dt.timedelta(days=days),
        )
        .exclude(status=ScheduleStatus.DRAFT)
        .select_related("doctor__department")
        .order_by("date", "start_time")
    )


def appointments_for_member(
    *, member: Member, upcoming: bool, now: dt.datetime | None = None
) -> QuerySet[Appointment]:
    """A member's own appointments, upcoming (soonest first) or past (latest first), as of the
    clinic's date at ``now``."""
    today = timezone.localdate(now)
    qs = Appointment.objects.filter(member=member).select_related("schedule__doctor__department")
    if upcoming:
        return qs.filter(status__in=UPCOMING_STATUSES, schedule__date__gte=today).order_by(
            "schedule__date", "schedule__start_time"
        )
    return qs.exclude(status__in=UPCOMING_STATUSES, schedule__date__gte=today).order_by(
        "-schedule__date", "-schedule__start_time"
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


def active_appointment_of(*, member: Member, schedule: Schedule) -> Appointment | None:
    return Appointment.objects.filter(
        member=member, schedule=schedule, status__in=ACTIVE_STATUSES
    ).first()


def alternative_schedule(*, schedule: Schedule, now: dt.datetime) -> Schedule | None:
    """Where patients of a suspended session can go: the same doctor's next session with a free
    slot, else the next one of a doctor of the same title in the same department."""
    open_ = open_schedules(now).exclude(pk=schedule.pk).select_related("doctor__department")
    same_doctor = open_.filter(doctor=schedule.doctor).order_by("date", "start_time").first()
    if same_doctor is not None:
        return same_doctor
    return (
        open_.filter(
            doctor__department=schedule.doctor.department_id,
            doctor__title=schedule.doctor.title,
            doctor__is_active=True,
        )
        .order_by("date", "start_time")
        .first()
    )


# -- the clinic day (staff console) ----------------------------------------------------------

# Appointments that belong on today's board and in the queue (everything but cancelled).
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


# -- what a login may do with an appointment (templates show these; they never compare statuses) --


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


# -- look-ups of one row for the console and the public pages (None: a 404) ----------------------


def viewing_member(*, user: User | AnonymousUser) -> Member | None:
    """The member a visitor is logged in as, with their level (it may open sessions earlier);
    None for anonymous visitors and staff."""
    if not user.is_authenticated:
        return None
    return member_for_user(user_id=user.pk)


def public_doctor(*, pk: int) -> Doctor | None:
    """An active doctor with their department, as the public pages show them."""
    return Doctor.objects.select_related("department").filter(pk=pk, is_active=True).first()


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


# -- the clinic's setup pages (staff console) ----------------------------------------------


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def active_department(*, code: str) -> Department | None:
    return Department.objects.filter(code=code, is_active=True).first()


def departments_for_staff() -> QuerySet[Department]:
    """Every department, active or not, with all its doctors (two queries)."""
    return Department.objects.prefetch_related("doctors")


def sessions_of_week(*, start: dt.date, department: str = "") -> QuerySet[Schedule]:
    """The sessions of the seven days from ``start`` (of one department, by its code, when
    given), by date, department and doctor."""
    rows = (
        Schedule.objects.filter(date__gte=start, date__lt=start + dt.timedelta(days=7))
        .select_related("doctor__department")
        .order_by("date", "doctor__department__sort_order", "doctor__name", "start_time")
    )
    if department:
        rows = rows.filter(doctor__department__code=department)
    return rows


def active_templates(*, department: str = "") -> QuerySet[ScheduleTemplate]:
    """The weekly templates in use (of one department, by its code, when given)."""
    templates = ScheduleTemplate.objects.filter(is_active=True)
    if department:
        templates = templates.filter(doctor__department__code=department)
    return templates.select_related("doctor__department").order_by(
        "doctor__department__sort_order", "doctor__name", "weekday", "start_time"
    )


def holidays_from(*, day: dt.date) -> QuerySet[Holiday]:
    return Holiday.objects.filter(date__gte=day)


def drafts_waiting(*, today: dt.date) -> int:
    """Sessions from today on still waiting for the release job."""
    return Schedule.objects.filter(status=ScheduleStatus.DRAFT, date__gte=today).count()


def release_rule() -> ReleaseRule:
    """The clinic's release rule (放号), created with its defaults on first use."""
    return ReleaseRule.current()


def title_fees() -> QuerySet[TitleFee]:
    return TitleFee.objects.all()


def title_fee(*, title: str | None) -> TitleFee | None:
    return TitleFee.objects.filter(title=title).first() if title else None


def bookable_schedule(*, pk: int) -> Schedule | None:
    """A session whose booking page a member may open: any but a draft, of an active doctor,
    with doctor and department (None when there is no such session)."""
    return (
        Schedule.objects.select_related("doctor__department")
        .exclude(status=ScheduleStatus.DRAFT)
        .filter(pk=pk, doctor__is_active=True)
        .first()
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


def open_sessions_of_department(*, code: str, now: dt.datetime, limit: int = 40) -> list[Schedule]:
    """The department's sessions open for booking at ``now``, soonest first."""
    return list(
        open_schedules(now)
        .filter(doctor__department__code=code)
        .select_related("doctor")
        .order_by("date", "start_time")[:limit]
    )


def latest_appointments_of(*, member: Member, limit: int = 20) -> QuerySet[Appointment]:
    """A member's latest appointments (any status), for staff."""
    return (
        Appointment.objects.filter(member=member)
        .select_related("schedule__doctor__department")
        .order_by("-schedule__date", "-schedule__start_time")[:limit]
    )
