"""Reads for booking and cancelling: when a session opens for a level, what stands in a member's
way, a session's availability for a member, and a member's own appointments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Min,
    Q,
    QuerySet,
)
from django.utils import timezone

from medbook.choices import choice_label
from members.models import Member, MemberLevel, Patient, Relation, User

from .. import exceptions as errors
from ..choices import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    UPCOMING_STATUSES,
    AppointmentStatus,
    ScheduleStatus,
    WaitlistStatus,
)
from ..models import (
    Appointment,
    Schedule,
)
from ..slots import slots_of
from .catalogue import open_schedules


def opens_at_for(*, schedule: Schedule, level: MemberLevel | None) -> dt.datetime:
    """When members of ``level`` may start booking ``schedule`` (the public time without one)."""
    lead = dt.timedelta(hours=level.booking_lead_hours) if level else dt.timedelta(0)
    return schedule.release_at - lead


def _whose(member: Member, patient: Patient | None) -> Q:
    """The appointments the per-person rules count: the patient's; without one, the account
    holder's (rows from before patients, which name none, are the holder's)."""
    if patient is not None:
        return Q(patient=patient)
    return Q(member=member) & (Q(patient__relation=Relation.SELF) | Q(patient__isnull=True))


def upcoming_appointment_count(
    *, member: Member, now: dt.datetime, patient: Patient | None = None
) -> int:
    """Appointments that still lie ahead of the patient (the level's max_active_appointments
    counts each person the account books for)."""
    return Appointment.objects.filter(
        _whose(member, patient),
        status__in=UPCOMING_STATUSES,
        schedule__date__gte=timezone.localdate(now),
    ).count()


@dataclass(frozen=True)
class MemberBookings:
    """What a patient (or the member) holds right now, read once for a page that lists many
    schedules."""

    schedule_ids: frozenset[int]  # schedules with an active appointment of the member
    upcoming: int  # upcoming appointments (against the level's max_active_appointments)
    department_days: frozenset[tuple[dt.date, int]]  # (date, department) already booked


def member_bookings(
    *, member: Member, now: dt.datetime, patient: Patient | None = None
) -> MemberBookings:
    """What ``patient`` of ``member`` holds (the account holder without one)."""
    held = Appointment.objects.filter(_whose(member, patient), status__in=ACTIVE_STATUSES).filter(
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
    seats: bool = True,
    patient: Patient | None = None,
) -> errors.AppointmentError | None:
    """Why ``member`` cannot book ``schedule`` for ``patient`` at ``now``, or None when they can.

    The account's own limits (opening time for its level, a no-show ban) are the member's; one
    slot per session, one visit per department a day and the level's cap count the patient
    (the member's appointments when no patient is given). ``bookings`` must be the patient's.

    ``staff_override`` (staff booking with a reason) lifts the member's own limits: opening
    time, a no-show ban and the level's cap; never capacity, status or a double booking.

    The booking service calls this with both rows locked, which makes the answer final; other
    callers get an answer that is true at the moment of reading. ``bookings`` (from
    :func:`member_bookings`) saves two queries per schedule on pages that list many.
    ``seats=False`` leaves out whether a slot is free (the booking service takes the slot
    with a conditional update, which decides that).
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
        return errors.SoldOut() if seats and schedule.remaining == 0 else None
    if member.is_banned(now) and not staff_override:
        return errors.MemberBanned(member.banned_until)
    if bookings is not None:
        already = schedule.pk in bookings.schedule_ids
    else:
        already = schedule.appointments.filter(
            _whose(member, patient), status__in=ACTIVE_STATUSES
        ).exists()
    if already:
        return errors.AlreadyBooked()
    if seats and schedule.remaining == 0:
        return errors.SoldOut()
    if settings.MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY and not staff_override:
        department_id = schedule.doctor.department_id
        if bookings is not None:
            same_day = (schedule.date, department_id) in bookings.department_days
        else:
            same_day = (
                Appointment.objects.filter(
                    _whose(member, patient),
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
        else upcoming_appointment_count(member=member, now=now, patient=patient)
    )
    if upcoming >= limit and not staff_override:
        return errors.TierLimitReached(limit, member.level.local_name)
    return None


def cancellation_cutoff(schedule: Schedule) -> dt.datetime:
    """Until when a member may cancel without the late-cancellation privilege."""
    return schedule.starts_at - dt.timedelta(hours=settings.MEDBOOK_CANCEL_CUTOFF_HOURS)


def not_cancellable_online(*, schedule: Schedule, member: Member, now: dt.datetime) -> bool:
    """Whether a visit booked now could not be cancelled online: the session starts within
    the cancellation cutoff and ``member``'s level may not cancel late."""
    return now >= cancellation_cutoff(schedule) and not member.level.can_cancel_late


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
        return errors.NotCancellable(choice_label(appointment, "status"))
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
    def can_wait(self) -> bool:
        """Full, and nothing but that keeps the viewer from booking: the waitlist is open."""
        return self.is_full and (self.blocker is None or isinstance(self.blocker, errors.SoldOut))

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
    patient: Patient | None = None,
) -> Availability:
    """Availability of ``schedule`` for ``patient`` of ``member`` (the holder when None; or the
    public, without a member) at ``now``.

    The state describes the schedule (bookable, full, not yet open, suspended, past); the
    blocker also covers the member's own limits (already booked, banned, tier limit).
    """
    now = now or timezone.now()
    blocker = booking_blocker(
        schedule=schedule, member=member, now=now, bookings=bookings, patient=patient
    )
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


def active_appointment_of(
    *, member: Member, schedule: Schedule, patient: Patient | None = None
) -> Appointment | None:
    """The active appointment of ``schedule`` for ``patient`` (any of the member's without)."""
    return Appointment.objects.filter(
        _whose(member, patient), schedule=schedule, status__in=ACTIVE_STATUSES
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


def bookable_schedule(*, pk: int) -> Schedule | None:
    """A session whose booking page a member may open: any but a draft, of an active doctor,
    with doctor and department (None when there is no such session)."""
    return (
        Schedule.objects.select_related("doctor__department")
        .exclude(status=ScheduleStatus.DRAFT)
        .filter(pk=pk, doctor__is_active=True)
        .first()
    )


def latest_appointments_of(*, member: Member, limit: int = 20) -> QuerySet[Appointment]:
    """A member's latest appointments (any status), for staff."""
    return (
        Appointment.objects.filter(member=member)
        .select_related("schedule__doctor__department")
        .order_by("-schedule__date", "-schedule__start_time")[:limit]
    )


@dataclass(frozen=True)
class GateStock:
    """What the release gate needs to rebuild a session's stock, read from PostgreSQL."""

    remaining: int
    recheck_at: dt.datetime | None  # when the earliest unpaid hold or waitlist offer runs out
    ends_at: dt.datetime


def gate_stock(*, schedule_id: int) -> GateStock | None:
    """A released session's free slots as PostgreSQL counts them now (None for a session that
    is not released: the gate keeps no stock for it, every attempt goes to the database)."""
    schedule = Schedule.objects.filter(pk=schedule_id, status=ScheduleStatus.PUBLISHED).first()
    if schedule is None:
        return None
    earliest = schedule.appointments.filter(status=AppointmentStatus.PENDING_PAYMENT).aggregate(
        earliest=Min("created_at")
    )["earliest"]
    ends = [earliest + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES)] if earliest else []
    if schedule.offered:
        # A slot held for a waitlist offer may come back when the offer runs out.
        ends.append(
            schedule.waitlist_offers.filter(status=WaitlistStatus.OFFERED).aggregate(
                ends=Min("offer_expires_at")
            )["ends"]
        )
    ends = [end for end in ends if end is not None]
    return GateStock(
        remaining=schedule.remaining,
        recheck_at=min(ends) if ends else None,
        ends_at=schedule.ends_at,
    )


@dataclass(frozen=True)
class SlotChoice:
    """A time slot of a split session as a member chooses it: its times and free places."""

    index: int
    start: dt.time
    end: dt.time
    free: int


def slot_choices(*, schedule: Schedule) -> list[SlotChoice]:
    """The time slots (分时段) of ``schedule`` with their free places, earliest first; empty
    when the session is not split (one query when it is, none otherwise)."""
    slots = slots_of(schedule)
    if not slots:
        return []
    taken = set(
        Appointment.objects.filter(schedule_id=schedule.pk, status__in=ACTIVE_STATUSES).values_list(
            "queue_number", flat=True
        )
    )
    return [
        SlotChoice(
            index=slot.index,
            start=slot.start,
            end=slot.end,
            free=sum(1 for number in slot.numbers if number not in taken),
        )
        for slot in slots
    ]
