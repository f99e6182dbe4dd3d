"""Reads for rescheduling (改约): whether a booking may move now, where to, and what the
per-person rules say of a session when the booking being moved is left out of them.

The reschedule service asks the same questions with the rows locked, which makes its answer
final; the pages ask them to say what to offer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from medbook.choices import choice_label
from members.models import Member, User

from .. import exceptions as errors
from ..choices import ACTIVE_STATUSES, UPCOMING_STATUSES, AppointmentStatus, ScheduleStatus
from ..models import Appointment, Reschedule, Schedule
from .booking import (
    Availability,
    MemberBookings,
    _whose,
    booking_blocker,
    cancellation_cutoff,
    schedule_availability,
)

__all__ = [
    "RESCHEDULABLE_STATUSES",
    "RescheduleTarget",
    "bookings_without",
    "may_reschedule_for_members",
    "moves_so_far",
    "moves_this_month",
    "pending_move",
    "reschedule_blocker",
    "reschedule_targets",
    "target_refusal",
]

# A booking still ahead and not yet at the clinic: it moves; a checked-in one does not.
RESCHEDULABLE_STATUSES = (AppointmentStatus.PENDING_PAYMENT, AppointmentStatus.CONFIRMED)
TARGET_DAYS = 28  # how far ahead the page looks for sessions to move to
TARGET_LIMIT = 30


def may_reschedule_for_members(user: User) -> bool:
    """Staff who may move any member's booking, past the member's own limits (with a reason)."""
    return user.has_perm("appointments.reschedule_for_member")


def moves_so_far(appointment: Appointment) -> int:
    """How many times the booking that became ``appointment`` has been moved already (a move
    awaiting its difference counts: its new appointment is the booking, if paid)."""
    return (
        Reschedule.objects.filter(to_appointment_id=appointment.pk)
        .values_list("sequence", flat=True)
        .first()
        or 0
    )


def pending_move(appointment: Appointment) -> Reschedule | None:
    """The move to a dearer session waiting for its difference that ``appointment`` is part
    of (moved from, or the new slot held), or None."""
    return (
        Reschedule.objects.filter(
            Q(from_appointment_id=appointment.pk) | Q(to_appointment_id=appointment.pk),
            completed_at__isnull=True,
            to_appointment__status=AppointmentStatus.PENDING_PAYMENT,
        )
        .select_related("from_appointment", "to_appointment")
        .first()
    )


def moves_this_month(*, member: Member, now: dt.datetime) -> int:
    """The member's own moves (not staff's for them) since the start of the clinic month:
    done, or awaiting their difference."""
    local = timezone.localtime(now)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (
        Reschedule.objects.filter(
            from_appointment__member_id=member.pk, for_member=False, created_at__gte=start
        )
        .filter(
            Q(completed_at__isnull=False)
            | Q(to_appointment__status=AppointmentStatus.PENDING_PAYMENT)
        )
        .count()
    )


def bookings_without(*, appointment: Appointment, now: dt.datetime) -> MemberBookings:
    """What the appointment's patient holds besides ``appointment`` itself: the per-person rules
    (one slot a session, one visit per department a day, the level's cap) for the session it
    moves to, which the booking being moved must not count against."""
    held = (
        Appointment.objects.filter(
            _whose(appointment.member, appointment.patient),
            status__in=ACTIVE_STATUSES,
            schedule__date__gte=timezone.localdate(now),
        )
        .exclude(pk=appointment.pk)
        .values_list("schedule_id", "status", "schedule__date", "schedule__doctor__department")
    )
    rows = list(held)
    return MemberBookings(
        schedule_ids=frozenset(row[0] for row in rows),
        upcoming=sum(1 for row in rows if row[1] in UPCOMING_STATUSES),
        department_days=frozenset((row[2], row[3]) for row in rows),
    )


def reschedule_blocker(
    *, appointment: Appointment, by: User, now: dt.datetime, moves: int | None = None
) -> errors.AppointmentError | None:
    """Why ``by`` cannot move ``appointment`` (wherever to) at ``now``, or None when they can.

    The member moves their own booking while it awaits payment or is confirmed, until the
    cancellation cutoff (later only when their level may cancel late), as often as their
    level allows (per booking and per month). A move waiting for its difference blocks any
    other until it is paid, cancelled or runs out, for staff too. Staff with
    ``appointments.reschedule_for_member`` move any member's booking until its session ends,
    however often. ``moves``: the booking's moves so far, when the caller read them already.
    """
    member: Member = appointment.member
    for_member = by.pk != member.user_id
    if for_member and not may_reschedule_for_members(by):
        return errors.NotAllowed()
    if appointment.status not in RESCHEDULABLE_STATUSES:
        return errors.NotReschedulable(choice_label(appointment, "status"))
    if pending_move(appointment) is not None:
        return errors.MovePending()
    schedule = appointment.schedule
    if for_member:
        if schedule.status == ScheduleStatus.FINISHED or now >= schedule.ends_at:
            return errors.SessionOver()
        return None
    if now >= schedule.starts_at or (
        now >= cancellation_cutoff(schedule) and not member.level.can_cancel_late
    ):
        return errors.RescheduleClosed(settings.MEDBOOK_CANCEL_CUTOFF_HOURS)
    level = member.level
    moves = moves_so_far(appointment) if moves is None else moves
    if moves >= level.reschedules_per_booking:
        return errors.RescheduleLimitReached(level.reschedules_per_booking)
    monthly = level.reschedules_per_month
    if monthly is not None and moves_this_month(member=member, now=now) >= monthly:
        return errors.MonthlyRescheduleLimitReached(monthly)
    return None


def _other_doctors_allowed(for_member: bool) -> bool:
    return for_member or settings.MEDBOOK_RESCHEDULE_ANY_DOCTOR


def target_refusal(
    *, appointment: Appointment, schedule: Schedule, for_member: bool
) -> errors.AppointmentError | None:
    """Why ``schedule`` is no place for ``appointment`` to move to, whatever its slots: the
    same session, or another doctor's (allowed within the department when the clinic says
    so, and to staff moving it for the member)."""
    current = appointment.schedule
    if schedule.pk == current.pk:
        return errors.SameSession()
    if schedule.doctor_id == current.doctor_id:
        return None
    allowed = _other_doctors_allowed(for_member)
    if allowed and schedule.doctor.department_id == current.doctor.department_id:
        return None
    return errors.NotSameDoctor(department_allowed=allowed)


@dataclass(frozen=True)
class RescheduleTarget:
    """A session the booking could move to, with whether it can now and why not."""

    schedule: Schedule
    availability: Availability
    other_doctor: bool  # not the doctor the booking is with now

    @property
    def can_move(self) -> bool:
        return self.availability.can_book


def reschedule_targets(
    *, appointment: Appointment, by: User, now: dt.datetime, days: int = TARGET_DAYS
) -> list[RescheduleTarget]:
    """The released sessions ``appointment`` may move to, soonest first: its doctor's (and the
    department's other doctors', when allowed), from now for ``days`` days, each with what the
    booking rules say for its patient (leaving the booking itself out of them)."""
    current = appointment.schedule
    for_member = by.pk != appointment.member.user_id
    local = timezone.localtime(now)
    doctors = Q(doctor_id=current.doctor_id)
    if _other_doctors_allowed(for_member):
        doctors |= Q(doctor__department_id=current.doctor.department_id, doctor__is_active=True)
    schedules = (
        Schedule.objects.filter(
            doctors,
            Q(date__gt=local.date()) | Q(date=local.date(), end_time__gt=local.time()),
            status=ScheduleStatus.PUBLISHED,
            date__lt=local.date() + dt.timedelta(days=days),
        )
        .exclude(pk=current.pk)
        .select_related("doctor__department")
        .order_by("date", "start_time", "doctor__name")[:TARGET_LIMIT]
    )
    bookings = bookings_without(appointment=appointment, now=now)
    member = appointment.member
    targets = []
    for schedule in schedules:
        availability = schedule_availability(
            schedule=schedule,
            member=member,
            now=now,
            bookings=bookings,
            patient=appointment.patient,
        )
        if for_member and availability.blocker is not None:
            # Staff move past the member's own limits: ask the rules as the service will.
            blocker = booking_blocker(
                schedule=schedule,
                member=member,
                now=now,
                bookings=bookings,
                staff_override=True,
                patient=appointment.patient,
            )
            availability = Availability(
                state=availability.state,
                remaining=availability.remaining,
                capacity=availability.capacity,
                opens_at=availability.opens_at,
                public_opens_at=availability.public_opens_at,
                blocker=blocker,
            )
        targets.append(
            RescheduleTarget(
                schedule=schedule,
                availability=availability,
                other_doctor=schedule.doctor_id != current.doctor_id,
            )
        )
    return targets
