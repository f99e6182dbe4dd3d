"""Writes of the booking core: book and cancel, safe under any number of concurrent processes.

Concurrency: a booking locks the member row (FOR NO KEY UPDATE: rows that only point at the
member, such as a message a cancellation writes, don't wait for it), then takes its slot with
one conditional update of the schedule row, which locks that row until commit (always in that
order), so the member's own limits cannot be raced by the member booking two schedules at once
and no schedule gives more slots than its capacity. The session's row is held only for the last
few statements. A cancellation locks the schedule, then the appointment. On SQLite every
transaction is IMMEDIATE, which serialises writers the same way. The database's partial unique
constraints stay as the last line of defence.

A "sold out" hint in the cache lets the thousands of members who lose a popular release get
their answer without queueing for the row lock. It is only ever a hint: it is set while the
schedule row is locked and full, cleared when a cancellation commits, and it expires on its own;
a cache outage just sends every request to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Max, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook import clinic
from medbook.errors import Invalid
from members.models import Member, Patient, User
from members.patients import self_patient

from .. import catalogue_cache, gate, hooks
from .. import exceptions as errors
from ..choices import (
    ACTIVE_STATUSES,
    AppointmentStatus,
    Channel,
    ScheduleStatus,
)
from ..models import Appointment, Schedule, WaitlistEntry
from ..selectors import booking_blocker, cancel_blocker, member_bookings
from ..slots import Slot, slots_of
from . import waitlist
from .stock import clear_sold_out as _clear_sold_out
from .stock import mark_sold_out as _mark_sold_out
from .stock import sold_out_key as _sold_out_key


def _free_queue_number(
    schedule_id: int, capacity: int, within: range | None = None
) -> tuple[int, int]:
    """The lowest number in 1..capacity (in ``within``: a chosen time slot's numbers) that no
    active appointment holds, and how many are held (the schedule's row is locked by the
    caller). Without ``within`` that is also the earliest time slot with a free place."""
    taken = set(
        Appointment.objects.filter(schedule_id=schedule_id, status__in=ACTIVE_STATUSES).values_list(
            "queue_number", flat=True
        )
    )
    for number in range(1, capacity + 1) if within is None else within:
        if number not in taken:
            return number, len(taken)
    raise errors.SoldOut() if within is None else errors.SlotFull()


def _chosen_slot(schedule: Schedule, index: int) -> Slot:
    """The time slot ``index`` of ``schedule``, or NoSuchSlot (not split, out of range)."""
    slot = next((s for s in slots_of(schedule) if s.index == index), None)
    if slot is None:
        raise errors.NoSuchSlot()
    return slot


def _one_slot_taken(now: dt.datetime) -> dict:
    """The columns an UPDATE taking one slot sets: ``booked`` + 1 and, when that slot is the
    last one and the session never sold out before, ``sold_out_at`` = ``now`` — in the same
    statement, so recording the first sell-out costs the booking nothing. (The SET reads the
    row as it was: ``booked`` + 1 >= capacity is ``booked`` >= capacity − 1.) A slot freed
    later leaves it: the reports want when the release first sold out."""
    return {
        "booked": F("booked") + 1,
        "sold_out_at": Coalesce(
            F("sold_out_at"),
            Case(
                When(booked__gte=F("capacity") - F("offered") - 1, then=Value(now)),
                default=None,
                output_field=DateTimeField(),
            ),
        ),
    }


def _take_slot(schedule: Schedule, now: dt.datetime) -> bool:
    """One slot of ``schedule`` taken in one statement, if the session is still as the caller
    read it (``updated_at``: no edit of its times, opening, capacity or status since) and
    has one free; this locks its row until commit. False: it changed or is full."""
    return bool(
        Schedule.objects.filter(
            pk=schedule.pk,
            updated_at=schedule.updated_at,
            status=ScheduleStatus.PUBLISHED,
            booked__lt=F("capacity") - F("offered"),
        ).update(**_one_slot_taken(now))
    )


def _take_offered_slot(schedule: Schedule, now: dt.datetime) -> None:
    """The slot held for a waitlist offer becomes a booking (locks the session's row until
    commit); :func:`waitlist.fulfil_offer` then checks that the offer was this member's."""
    taken = Schedule.objects.filter(
        pk=schedule.pk, status=ScheduleStatus.PUBLISHED, offered__gte=1
    ).update(**_one_slot_taken(now), offered=F("offered") - 1)
    if not taken:
        raise errors.OfferGone()


def _is_full(schedule: Schedule, booked: int) -> bool:
    """Whether the session (its row locked) has no slot left for anyone, ``booked`` being its
    count just written; the count held for offers is read again only when it may matter."""
    if booked + schedule.offered < schedule.capacity:
        return False
    offered = Schedule.objects.filter(pk=schedule.pk).values_list("offered", flat=True).get()
    return booked + offered >= schedule.capacity


def book_appointment(
    *,
    member: Member,
    schedule: Schedule,
    channel: Channel,
    now: dt.datetime | None = None,
    by: User | None = None,
    override_reason: str = "",
    walk_in: bool = False,
    then: Callable[[Appointment], object] | None = None,
    patient: Patient | None = None,
    offer: WaitlistEntry | None = None,
    slot: int | None = None,
    savepoint: bool = True,
) -> Appointment:
    """Book the next free slot of ``schedule`` for ``patient`` of ``member``'s account (the
    holder when None; another account's patient or a removed one is refused). The member
    pays and earns points; the per-person rules count the patient.

    A session split into time slots (分时段) takes the number from the chosen ``slot`` (its
    index in :func:`~appointments.slots.slots_of`): :class:`~appointments.exceptions.SlotFull`
    when it has none left while the session has, NoSuchSlot when there is no such slot.
    Without a choice (front desk, walk-ins, waitlist offers) the earliest slot with a place.

    With ``offer`` (the member's waitlist entry offered a slot of ``schedule``, for its
    patient) the slot held for the offer is taken instead of a free one, or
    :class:`~appointments.exceptions.OfferGone` when it is no longer this member's.

    Returns the appointment: pending payment when the session has a fee, confirmed when it is
    free. Raises an :class:`~appointments.exceptions.AppointmentError` saying why not.
    Staff (``by``) with ``appointments.override_booking_rules`` may give an ``override_reason``
    to book past the member's own limits (opening time, ban, level cap); it is kept on the
    appointment. A ``walk_in`` (the patient is at the desk; the caller checked the staff's
    permission) is not bound by those limits either. ``then(appointment)`` runs in the same
    transaction (billing's order and message): all of it is written, or nothing.

    The rules are checked on the member's locked row and on ``schedule`` as the caller read it;
    the slot is then taken with one conditional update, so the session's row is locked only
    from there to the commit (the queue number, the inserts). When the session changed since
    it was read, or looks full, its row is locked and read again, and the rules decide on that.

    ``savepoint=False``: the caller's transaction is all of it and is undone as a whole when
    this raises (billing's booking: two round trips fewer than a savepoint of its own).
    """
    now = now or timezone.now()
    override_reason = override_reason.strip()
    if override_reason and (by is None or not by.has_perm("appointments.override_booking_rules")):
        raise errors.NotAllowed()
    if slot is not None and offer is None:
        _chosen_slot(schedule, slot)  # bad input: refused before anything is read or written
    if offer is not None:
        patient = offer.patient
        slot = None
    elif cache.get(_sold_out_key(schedule.pk)):
        raise errors.SoldOutHint()
    if patient is None:
        patient = self_patient(member=member)
    elif patient.member_id != member.pk or patient.removed_at is not None:
        raise errors.NotYourPatient()
    # 实名制 (the clinic's setting, cached): a walk-in is exempt — the desk has the person and
    # their document at the counter.
    if not walk_in and not patient.is_verified and clinic.booking_requires_verified_patient():
        raise errors.PatientNotVerified()
    staff_override = bool(override_reason) or walk_in
    try:
        with transaction.atomic(savepoint=savepoint):
            # NO KEY: a row that merely points at the member (a message, an order of another
            # transaction that holds this session's row) never waits for this lock.
            member = (
                Member.objects.select_for_update(of=("self",), no_key=True)
                .select_related("level")
                .get(pk=member.pk)
            )
            bookings = member_bookings(member=member, now=now, patient=patient)
            rules = {"member": member, "now": now, "bookings": bookings, "patient": patient}
            blocker = booking_blocker(
                schedule=schedule, staff_override=staff_override, seats=False, **rules
            )
            if blocker is not None:
                raise blocker
            if offer is not None:
                _take_offered_slot(schedule, now)
            elif not _take_slot(schedule, now):
                schedule = (
                    Schedule.objects.select_for_update(of=("self",))
                    .select_related("doctor__department")
                    .get(pk=schedule.pk)
                )
                blocker = booking_blocker(schedule=schedule, staff_override=staff_override, **rules)
                if blocker is not None:
                    if isinstance(blocker, errors.SoldOut):
                        _mark_sold_out(schedule, now)
                    raise blocker
                Schedule.objects.filter(pk=schedule.pk).update(**_one_slot_taken(now))
            catalogue_cache.sessions_changed(doctor_ids=[schedule.doctor_id])
            within = None if slot is None else _chosen_slot(schedule, slot).numbers
            number, held = _free_queue_number(schedule.pk, schedule.capacity, within)
            schedule.booked = held + 1  # the row is locked: the count just written
            free = schedule.fee == 0
            appointment = Appointment.objects.create(
                member=member,
                patient=patient,
                schedule=schedule,
                queue_number=number,
                estimated_time=schedule.estimated_time(number),
                status=AppointmentStatus.CONFIRMED if free else AppointmentStatus.PENDING_PAYMENT,
                channel=channel,
                fee=schedule.fee,
                created_at=now,
                confirmed_at=now if free else None,
                staff_note=override_reason[:200],
            )
            if offer is not None:
                waitlist.fulfil_offer(entry=offer, appointment=appointment, now=now)
            elif _is_full(schedule, schedule.booked):
                _mark_sold_out(schedule, now)
            hooks.appointment_event("booked", appointment, now=now)
            if free:
                hooks.appointment_event("confirmed", appointment, now=now)
            if then is not None:
                then(appointment)
    except IntegrityError as exc:
        # Only reachable if a lock was bypassed: the constraints still say no.
        if "one_active_per_patient_schedule" in str(exc):
            raise errors.AlreadyBooked() from exc
        if "unique_active_queue_number" in str(exc) or "booked_lte_capacity" in str(exc):
            raise errors.SoldOut() from exc
        raise
    return appointment


def cancel_appointment(
    *, appointment: Appointment, by: User | None, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """Cancel ``appointment`` on behalf of ``by`` and return its slot to the pool at once, or,
    when members wait for the session, hold it for the first of them (:mod:`.waitlist`).

    Members may cancel their own appointment until the cutoff before the session
    (``MEDBOOK_CANCEL_CUTOFF_HOURS``), later only if their level may cancel late; staff with
    ``appointments.cancel_any_appointment`` may cancel at any time. ``by=None`` is MedBook itself
    (an unpaid hold expiring, a suspended session) and is bound by no cutoff either.
    """
    now = now or timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=appointment.schedule_id)
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("member__level")
            .get(pk=appointment.pk)
        )
        appointment.schedule = schedule
        blocker = cancel_blocker(appointment=appointment, by=by, now=now)
        if blocker is not None:
            raise blocker
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.cancelled_by = by
        appointment.cancel_reason = reason[:200]
        appointment.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        Schedule.objects.filter(pk=schedule.pk).update(booked=F("booked") - 1)
        catalogue_cache.sessions_changed(doctor_ids=[schedule.doctor_id])
        schedule.booked -= 1
        waitlist.offer_freed_slot(schedule=schedule, now=now)
        hooks.appointment_event("cancelled", appointment, now=now)
        mark = gate.mark_of(user_id=appointment.member.user_id, patient_id=appointment.patient_id)
        transaction.on_commit(lambda: _clear_sold_out(schedule.pk, mark))
    appointment.schedule = schedule
    return appointment


# Fields staff may change on a schedule; ``booked`` belongs to the booking services alone.
EDITABLE_SCHEDULE_FIELDS = frozenset(
    {
        "doctor",
        "date",
        "session",
        "start_time",
        "end_time",
        "capacity",
        "minutes_per_visit",
        "slot_minutes",
        "room",
        "room_en",
        "fee",
        "status",
        "release_at",
        "suspended_reason",
    }
)


def update_schedule(*, schedule: Schedule, changes: dict[str, object]) -> Schedule:
    """Apply staff edits to a schedule without racing the bookings of it.

    The row is locked and re-read, so ``booked`` is never overwritten with a stale value, and
    the capacity cannot drop below the slots already taken nor below the highest queue number
    handed out. Raises :class:`~medbook.errors.Invalid` naming the field.
    """
    unknown = set(changes) - EDITABLE_SCHEDULE_FIELDS
    if unknown:
        raise Invalid(_("These fields cannot be changed: %(f)s") % {"f": ", ".join(unknown)})
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        highest = (
            locked.appointments.filter(status__in=ACTIVE_STATUSES).aggregate(
                highest=Max("queue_number")
            )["highest"]
            or 0
        )
        if locked.capacity < max(locked.booked + locked.offered, highest):
            raise Invalid(
                _(
                    "Capacity cannot be lower than %(n)d: that many slots are booked or "
                    "numbered already."
                )
                % {"n": max(locked.booked + locked.offered, highest)},
                field="capacity",
            )
        try:
            locked.full_clean(exclude=["template"])
        except ValidationError as exc:
            raise Invalid.from_validation_error(exc) from exc
        locked.save(update_fields=[*changes, "updated_at"])
        if "capacity" in changes or "status" in changes:
            # Now (a booking later in this transaction must not be refused by the hint) and
            # after commit (a booker may have set it again meanwhile).
            _clear_sold_out(locked.pk)
            transaction.on_commit(lambda: _clear_sold_out(locked.pk))
    return locked


def confirm_appointment(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """Mark a pending appointment paid-for and confirmed (called by billing). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == AppointmentStatus.CONFIRMED:
            return appointment
        if appointment.status != AppointmentStatus.PENDING_PAYMENT:
            raise errors.NotConfirmable(appointment.get_status_display())
        appointment.status = AppointmentStatus.CONFIRMED
        appointment.confirmed_at = now
        appointment.save(update_fields=["status", "confirmed_at"])
        hooks.appointment_event("confirmed", appointment, now=now)
    return appointment


def _transition(
    *,
    appointment: Appointment,
    source: AppointmentStatus,
    target: AppointmentStatus,
    stamp: str,
    action: str,
    now: dt.datetime | None,
    also: dict[str, object] | None = None,
) -> Appointment:
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status != source:
            raise errors.IllegalTransition(appointment.get_status_display(), action)
        appointment.status = target
        setattr(appointment, stamp, now or timezone.now())
        for field, value in (also or {}).items():
            setattr(appointment, field, value)
        appointment.save(update_fields=["status", stamp, *(also or {})])
        hooks.appointment_event(target.value, appointment, now=now)
    return appointment


def check_in_appointment(
    *, appointment: Appointment, now: dt.datetime | None = None
) -> Appointment:
    """The patient arrived (签到): confirmed → checked in."""
    return _transition(
        appointment=appointment,
        source=AppointmentStatus.CONFIRMED,
        target=AppointmentStatus.CHECKED_IN,
        stamp="checked_in_at",
        action=_("checked in"),
        now=now,
    )


def complete_appointment(
    *, appointment: Appointment, now: dt.datetime | None = None, note: str = ""
) -> Appointment:
    """The doctor finished the visit: checked in → completed, with the doctor's short visit
    note (points: billing.complete_visit)."""
    note = (note or "").strip()
    limit = Appointment._meta.get_field("visit_note").max_length
    if len(note) > limit:
        raise Invalid(
            _("The visit note is too long: at most %(n)d characters.") % {"n": limit},
            field="note",
        )
    return _transition(
        appointment=appointment,
        source=AppointmentStatus.CHECKED_IN,
        target=AppointmentStatus.COMPLETED,
        stamp="completed_at",
        action=_("completed"),
        now=now,
        also={"visit_note": note} if note else None,
    )


def finish_past_schedules(*, now: dt.datetime | None = None) -> int:
    """Mark published schedules whose session has ended as finished. Safe to run twice."""
    now = timezone.localtime(now or timezone.now())
    ended = Q(date__lt=now.date()) | Q(date=now.date(), end_time__lte=now.time())
    finished = Schedule.objects.filter(ended, status=ScheduleStatus.PUBLISHED).update(
        status=ScheduleStatus.FINISHED, updated_at=now
    )
    if finished:
        catalogue_cache.catalogue_changed()
    return finished
