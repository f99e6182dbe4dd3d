"""Reads of schedules and appointments, ready to render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from members.models import Member, MemberLevel

from . import exceptions as errors
from .choices import ACTIVE_STATUSES, UPCOMING_STATUSES, DoctorTitle, ScheduleStatus
from .models import Appointment, Department, Doctor, Schedule


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


def booking_blocker(
    *, schedule: Schedule, member: Member | None, now: dt.datetime
) -> errors.AppointmentError | None:
    """Why ``member`` cannot book ``schedule`` at ``now``, or None when they can.

    The booking service calls this with both rows locked, which makes the answer final; other
    callers get an answer that is true at the moment of reading.
    """
    if schedule.status == ScheduleStatus.SUSPENDED:
        return errors.ScheduleSuspended()
    if schedule.status == ScheduleStatus.FINISHED or now >= schedule.starts_at:
        return errors.ScheduleInPast()
    if schedule.status != ScheduleStatus.PUBLISHED:
        return errors.ScheduleUnavailable()
    opens_at = opens_at_for(schedule=schedule, level=member.level if member else None)
    if now < opens_at:
        return errors.NotYetOpen(opens_at)
    if member is None:
        return errors.SoldOut() if schedule.remaining == 0 else None
    if member.is_banned(now):
        return errors.MemberBanned(member.banned_until)
    if schedule.appointments.filter(member=member, status__in=ACTIVE_STATUSES).exists():
        return errors.AlreadyBooked()
    if schedule.remaining == 0:
        return errors.SoldOut()
    limit = member.level.max_active_appointments
    if upcoming_appointment_count(member=member, now=now) >= limit:
        return errors.TierLimitReached(limit, member.level.name)
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

    @property
    def message(self) -> str:
        return self.blocker.message if self.blocker else ""


def schedule_availability(
    *, schedule: Schedule, member: Member | None = None, now: dt.datetime | None = None
) -> Availability:
    """Availability of ``schedule`` for ``member`` (or the public) at ``now``.

    The state describes the schedule (bookable, full, not yet open, suspended, past); the
    blocker also covers the member's own limits (already booked, banned, tier limit).
    """
    now = now or timezone.now()
    blocker = booking_blocker(schedule=schedule, member=member, now=now)
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


def departments_with_doctors() -> QuerySet[Department]:
    """Active departments, each with its active doctors prefetched (two queries)."""
    doctors = Doctor.objects.filter(is_active=True).order_by(TITLE_RANK, "name")
    return Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("doctors", queryset=doctors, to_attr="active_doctors")
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


def appointments_for_member(*, member: Member, upcoming: bool) -> QuerySet[Appointment]:
    """A member's own appointments, upcoming (soonest first) or past (latest first)."""
    today = timezone.localdate()
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
