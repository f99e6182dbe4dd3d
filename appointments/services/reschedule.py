"""Rescheduling (改约): a booking moved to another session in one transaction — the new slot
taken and the old one freed together, never both held and never neither.

Concurrency, in the booking core's lock order (booking.py): the member's row first (their own
limits cannot be raced by a booking of theirs), then both sessions' rows in primary-key order
(two reschedules crossing between the same two sessions wait for each other instead of
deadlocking; a booking or a cancellation of either session waits or is waited for), then the
appointment's row, whose status decides whether it still moves. billing's reschedule locks the
appointment's order before all of these, as a cancellation does. Every rule is decided on the
locked rows; the database's partial unique constraints stay the last line of defence.

The old appointment is cancelled with :data:`RESCHEDULED_REASON` and a :class:`Reschedule` row
links it to the new one; the patient, the member, the channel and (for a confirmed booking) the
confirmation carry over. Money is billing's: ``then(moved)`` runs in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.errors import Invalid
from members.models import Member, User

from .. import catalogue_cache, gate, hooks
from .. import exceptions as errors
from ..choices import AppointmentStatus
from ..models import Appointment, Reschedule, Schedule
from ..selectors import (
    booking_blocker,
    bookings_without,
    may_reschedule_for_members,
    moves_so_far,
    reschedule_blocker,
    target_refusal,
)
from . import waitlist
from .booking import _clear_sold_out, _free_queue_number, _mark_sold_out, _one_slot_taken

__all__ = ["RESCHEDULED_REASON", "Rescheduled", "complete_move", "reschedule_appointment"]

# The cancellation reason of the appointment a booking moved away from (like the hold's
# expiry reason, a fixed text: the pages link the new appointment in the reader's language).
RESCHEDULED_REASON = "已改约"


@dataclass(frozen=True)
class Rescheduled:
    """A booking moved: ``old`` (now cancelled), ``new`` (holding the new slot), the record."""

    old: Appointment
    new: Appointment
    record: Reschedule

    @property
    def for_member(self) -> bool:
        return self.record.for_member


def reschedule_appointment(
    *,
    appointment: Appointment,
    schedule: Schedule,
    by: User,
    reason: str = "",
    now: dt.datetime | None = None,
    then: Callable[[Rescheduled], object] | None = None,
    hold: bool = False,
) -> Rescheduled:
    """Move ``appointment`` to the lowest free number of ``schedule`` for ``by``.

    ``hold``: the new session costs more than was paid. The new slot is taken and held as a
    booking awaiting payment (the difference), the old appointment stays as it is, and the
    record waits (``completed_at`` None) for :func:`complete_move` when the difference is
    paid; if it is not, the hold runs out like any other and nothing else changed.

    The member moves their own booking within :func:`~appointments.selectors.reschedule_blocker`
    (status, cutoff, the reschedule limit) to another session of the same doctor (of the
    department when ``MEDBOOK_RESCHEDULE_ANY_DOCTOR``), where the booking rules apply to the
    patient as to a new booking — except those the booking being moved satisfies itself (it is
    not counted against the level's cap, nor against one visit per department a day). Staff
    with ``appointments.reschedule_for_member`` move a member's booking past the member's own
    limits (cutoff, limit, opening time, cap, a ban; any doctor of the department), giving a
    ``reason``, which is kept. Capacity, a double booking and a closed session stop everyone.

    A confirmed booking stays confirmed; one awaiting payment stays so (confirmed when the new
    session is free). Raises an :class:`~appointments.exceptions.AppointmentError` (or what
    ``then`` raises), having written nothing.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    for_member = by.pk != appointment.member.user_id
    if for_member and not may_reschedule_for_members(by):
        raise errors.NotAllowed()
    if for_member and not reason:
        raise Invalid(
            _("Please give the reason for moving the member's appointment."), field="reason"
        )
    if schedule.pk == appointment.schedule_id:
        raise errors.SameSession()
    try:
        with transaction.atomic():
            moved = _reschedule(
                appointment=appointment,
                schedule=schedule,
                by=by,
                reason=reason,
                now=now,
                for_member=for_member,
                hold=hold,
            )
            if then is not None:
                then(moved)
    except IntegrityError as exc:
        # Only reachable if a lock was bypassed: the constraints still say no.
        if "one_active_per_patient_schedule" in str(exc):
            raise errors.AlreadyBooked() from exc
        if "unique_active_queue_number" in str(exc) or "booked_lte_capacity" in str(exc):
            raise errors.SoldOut() from exc
        raise
    return moved


def _reschedule(
    *,
    appointment: Appointment,
    schedule: Schedule,
    by: User,
    reason: str,
    now: dt.datetime,
    for_member: bool,
    hold: bool,
) -> Rescheduled:
    member = (
        Member.objects.select_for_update(of=("self",), no_key=True)
        .select_related("level", "user")
        .get(pk=appointment.member_id)
    )
    sessions = {
        locked.pk: locked
        for locked in Schedule.objects.select_for_update(of=("self",))
        .select_related("doctor__department")
        .filter(pk__in=[appointment.schedule_id, schedule.pk])
        .order_by("pk")
    }
    if schedule.pk not in sessions:
        raise errors.ScheduleUnavailable()
    old = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=appointment.pk)
    )
    old.member = member
    old.schedule = current = sessions[old.schedule_id]
    target = sessions[schedule.pk]
    moves = moves_so_far(old)
    blocker = (
        reschedule_blocker(appointment=old, by=by, now=now, moves=moves)
        or target_refusal(appointment=old, schedule=target, for_member=for_member)
        or booking_blocker(
            schedule=target,
            member=member,
            now=now,
            bookings=bookings_without(appointment=old, now=now),
            staff_override=for_member,
            patient=old.patient,
        )
    )
    if blocker is not None:
        if isinstance(blocker, errors.SoldOut):
            _mark_sold_out(target, now)
        raise blocker

    # The new slot: the sessions' rows are locked, so the count and the numbers are final.
    Schedule.objects.filter(pk=target.pk).update(**_one_slot_taken(now))
    number, held = _free_queue_number(target.pk, target.capacity)
    target.booked = held + 1
    confirmed = not hold and (old.status == AppointmentStatus.CONFIRMED or target.fee == 0)
    new = Appointment.objects.create(
        member=member,
        patient=old.patient,
        schedule=target,
        queue_number=number,
        estimated_time=target.estimated_time(number),
        status=AppointmentStatus.CONFIRMED if confirmed else AppointmentStatus.PENDING_PAYMENT,
        channel=old.channel,
        fee=target.fee,
        created_at=now,
        confirmed_at=(old.confirmed_at or now) if confirmed else None,
        staff_note=(reason if for_member else old.staff_note)[:200],
    )

    record = Reschedule.objects.create(
        from_appointment=old,
        to_appointment=new,
        sequence=moves + 1,
        by=by,
        for_member=for_member,
        reason=reason[:200],
        old_fee=old.fee,
        new_fee=new.fee,
        created_at=now,
        completed_at=None if hold else now,
    )
    if not hold:
        _free_old_slot(old, current, by=by, now=now)
    if target.booked + target.offered >= target.capacity:
        _mark_sold_out(target, now)
    hooks.appointment_event("booked", new, now=now)
    if confirmed:
        hooks.appointment_event("confirmed", new, now=now)
    if not hold:
        hooks.appointment_event("cancelled", old, now=now)
        hooks.appointment_rescheduled(old, new, now=now)
    marks = gate.mark_of(user_id=member.user_id, patient_id=old.patient_id)
    transaction.on_commit(lambda: _clear_sold_out(current.pk, marks))
    # The new session's stock in the release gate is one too many now: rebuilt from the
    # database by the next attempt (a stale stock only lets an attempt through to be refused).
    transaction.on_commit(lambda: gate.forget(schedule_id=target.pk))
    # Both sessions' counts changed: the cached doctor pages and 有号 counts are bumped.
    catalogue_cache.sessions_changed(doctor_ids=[current.doctor_id, target.doctor_id])
    return Rescheduled(old=old, new=new, record=record)


def _free_old_slot(old: Appointment, current: Schedule, *, by: User, now: dt.datetime) -> None:
    """The old appointment cancelled as moved and its slot freed (its session row locked)."""
    old.status = AppointmentStatus.CANCELLED
    old.cancelled_at = now
    old.cancelled_by = by
    old.cancel_reason = RESCHEDULED_REASON
    old.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    Schedule.objects.filter(pk=current.pk).update(booked=F("booked") - 1)
    current.booked -= 1
    waitlist.offer_freed_slot(schedule=current, now=now)


def complete_move(*, record: Reschedule, now: dt.datetime | None = None) -> Rescheduled:
    """Finish a move that waited for its difference, now paid (in the payment's transaction):
    the held appointment is confirmed and the old one cancelled as moved, its slot freed.

    Locks as a move does (member, both sessions in id order, the two appointments). Raises
    :class:`~appointments.exceptions.NotReschedulable` (and writes nothing) when the old
    appointment is no longer confirmed (cancelled, or the session suspended, meanwhile) or the
    hold no longer awaits payment: then the difference goes back and the hold ends instead.
    """
    now = now or timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update(of=("self",)).get(
            pk=record.from_appointment.member_id
        )
        sessions = {
            locked.pk: locked
            for locked in Schedule.objects.select_for_update(of=("self",))
            .filter(pk__in=[record.from_appointment.schedule_id, record.to_appointment.schedule_id])
            .order_by("pk")
        }
        rows = {
            row.pk: row
            for row in Appointment.objects.select_for_update(of=("self",))
            .filter(pk__in=[record.from_appointment_id, record.to_appointment_id])
            .order_by("pk")
        }
        old, new = rows[record.from_appointment_id], rows[record.to_appointment_id]
        if old.status != AppointmentStatus.CONFIRMED:
            raise errors.NotReschedulable(old.get_status_display())
        if new.status != AppointmentStatus.PENDING_PAYMENT:
            raise errors.NotReschedulable(new.get_status_display())
        record = Reschedule.objects.select_for_update().get(pk=record.pk)
        if record.completed_at is not None:
            raise errors.NotReschedulable(old.get_status_display())
        new.status = AppointmentStatus.CONFIRMED
        new.confirmed_at = now
        new.save(update_fields=["status", "confirmed_at"])
        current = sessions[old.schedule_id]
        _free_old_slot(old, current, by=record.by, now=now)
        record.completed_at = now
        record.save(update_fields=["completed_at"])
        hooks.appointment_event("confirmed", new, now=now)
        hooks.appointment_event("cancelled", old, now=now)
        hooks.appointment_rescheduled(old, new, now=now)
        marks = gate.mark_of(user_id=member.user_id, patient_id=old.patient_id)
        transaction.on_commit(lambda: _clear_sold_out(current.pk, marks))
        catalogue_cache.sessions_changed(doctor_ids=[current.doctor_id])
    record.from_appointment, record.to_appointment = old, new
    return Rescheduled(old=old, new=new, record=record)
