"""The waitlist (候补): members waiting for a sold-out session, or for any session of a doctor
between two days, and the offers of the slots freed for them.

A slot freed on a session that was full (a cancellation, an unpaid hold running out, a move to
another session) does not go back to general stock while a member waits for it: in the same
transaction, with the session's row locked, it is counted in ``Schedule.offered`` instead of
``booked`` and offered to the first waiting entry — higher level first, then earlier joined.
The offer holds the slot for ``MEDBOOK_WAITLIST_OFFER_MINUTES``; the member is told by an
in-app message and a text. Accepting takes the held slot (``book_appointment(offer=…)``);
leaving, or letting the offer run out, passes the slot to the next entry, and when nobody is
left it goes back to general stock. ``booked`` + ``offered`` never exceeds the capacity (a
constraint), and ``offered`` equals the entries in the offered state on the session.

Each entry is offered a slot at most once: it is claimed with one conditional UPDATE
(waiting → offered), so two sessions freeing a slot at once never offer both to one member.
Lock order: the session's row, then the entry's (as a cancellation locks them). An offer's
expiry is promised in the outbox with the offer and swept every minute.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from medbook import outbox
from members.models import Member, Patient
from members.patients import self_patient

from .. import catalogue_cache, notices
from .. import exceptions as errors
from ..choices import ACTIVE_STATUSES, WAITLIST_OPEN, ScheduleStatus, WaitlistStatus
from ..models import Appointment, Doctor, Schedule, WaitlistEntry
from ..selectors import booking_blocker
from .stock import clear_sold_out

__all__ = [
    "EXPIRE_OFFER_TASK",
    "MAX_WAITLIST_DAYS",
    "close_waitlist_of_schedule",
    "expire_offer",
    "expire_offers_of_schedule",
    "fulfil_offer",
    "join_doctor_waitlist",
    "join_waitlist",
    "leave_waitlist",
    "offer_freed_slot",
    "sweep_waitlist",
    "waitlist_order",
]

EXPIRE_OFFER_TASK = "appointments.tasks.expire_waitlist_offer"
MAX_WAITLIST_DAYS = 14  # "any session of this doctor" spans at most this many days
CANDIDATES = 20  # entries read at a time when looking for the next one to offer a slot


def waitlist_order() -> list:
    """Who comes first: the member's level (higher first), then who joined first."""
    return [F("member__level__level").desc(), "joined_at", "pk"]


def _check_room(*, member: Member) -> None:
    limit = settings.MEDBOOK_WAITLIST_MAX_ENTRIES
    if WaitlistEntry.objects.filter(member=member, status__in=WAITLIST_OPEN).count() >= limit:
        raise errors.TooManyWaiting(limit)


def _patient(member: Member, patient: Patient | None) -> Patient:
    if patient is None:
        return self_patient(member=member)
    if patient.member_id != member.pk or patient.removed_at is not None:
        raise errors.NotYourPatient()
    return patient


def join_waitlist(
    *,
    member: Member,
    schedule: Schedule,
    patient: Patient | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Put ``patient`` of ``member`` (the holder when None) on the waitlist of a sold-out
    ``schedule``. Refused when the session has free slots (book it), is not open to the member
    (the booking rules: not open yet, cancelled, past, banned, level cap), the patient holds a
    slot of it already or waits for it already, or the member waits on too many lists."""
    now = now or timezone.now()
    patient = _patient(member, patient)
    blocker = booking_blocker(
        schedule=schedule, member=member, now=now, patient=patient, seats=False
    )
    if blocker is not None:
        raise blocker
    if schedule.remaining > 0:
        raise errors.SlotsStillFree()
    _check_room(member=member)
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(
                member=member,
                patient=patient,
                doctor_id=schedule.doctor_id,
                schedule=schedule,
                date_from=schedule.date,
                date_to=schedule.date,
                joined_at=now,
            )
    except IntegrityError as exc:
        raise errors.AlreadyWaiting() from exc


def join_doctor_waitlist(
    *,
    member: Member,
    doctor: Doctor,
    date_from: dt.date,
    date_to: dt.date,
    patient: Patient | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Wait for any session of ``doctor`` from ``date_from`` to ``date_to`` (at most
    :data:`MAX_WAITLIST_DAYS` apart, from today on): the first slot freed on a full session of
    theirs in those days is offered."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if date_from < today or date_to < date_from or (date_to - date_from).days >= MAX_WAITLIST_DAYS:
        raise errors.WaitlistDaysInvalid()
    patient = _patient(member, patient)
    if member.is_banned(now):
        raise errors.MemberBanned(member.banned_until)
    _check_room(member=member)
    return WaitlistEntry.objects.create(
        member=member,
        patient=patient,
        doctor=doctor,
        date_from=date_from,
        date_to=date_to,
        joined_at=now,
    )


def _open_for_offers(schedule: Schedule, now: dt.datetime) -> bool:
    return schedule.status == ScheduleStatus.PUBLISHED and now < schedule.starts_at


def _offer_to_next(schedule: Schedule, now: dt.datetime) -> WaitlistEntry | None:
    """Offer one held slot of ``schedule`` (its row locked by the caller) to the first entry
    waiting for it whose patient holds no slot of it yet; the caller counts the slot."""
    booked_here = Appointment.objects.filter(
        schedule=schedule, patient=OuterRef("patient"), status__in=ACTIVE_STATUSES
    )
    waiting = (
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING)
        .filter(
            Q(schedule=schedule)
            | Q(
                schedule__isnull=True,
                doctor_id=schedule.doctor_id,
                date_from__lte=schedule.date,
                date_to__gte=schedule.date,
            )
        )
        .exclude(Exists(booked_here))
        .order_by(*waitlist_order())
    )
    expires_at = now + dt.timedelta(minutes=settings.MEDBOOK_WAITLIST_OFFER_MINUTES)
    seen = 0
    while True:
        ids = list(waiting.values_list("pk", flat=True)[seen : seen + CANDIDATES])
        if not ids:
            return None
        for pk in ids:
            # Claimed only if still waiting: another session's offer may have taken it.
            claimed = WaitlistEntry.objects.filter(pk=pk, status=WaitlistStatus.WAITING).update(
                status=WaitlistStatus.OFFERED,
                offered_schedule=schedule,
                offered_at=now,
                offer_expires_at=expires_at,
            )
            if claimed:
                entry = WaitlistEntry.objects.select_related(
                    "member", "offered_schedule__doctor__department"
                ).get(pk=pk)
                notices.waitlist_offered(entry)
                seconds = int((expires_at - timezone.now()).total_seconds()) + 1
                outbox.enqueue(EXPIRE_OFFER_TASK, entry.pk, countdown=max(seconds, 1))
                return entry
        seen += len(ids)


def offer_freed_slot(*, schedule: Schedule, now: dt.datetime) -> WaitlistEntry | None:
    """A slot of ``schedule`` (its row locked, ``booked`` already one less) was just freed: when
    the session was full and someone waits for it, hold the slot for them and offer it.
    Returns the entry offered the slot, or None (the slot went back to general stock)."""
    if not _open_for_offers(schedule, now):
        return None
    if schedule.booked + schedule.offered + 1 < schedule.capacity:
        return None  # it had free slots anyway: those waiting could have booked them
    entry = _offer_to_next(schedule, now)
    if entry is not None:
        Schedule.objects.filter(pk=schedule.pk).update(offered=F("offered") + 1)
        schedule.offered += 1
    return entry


def _pass_on(schedule: Schedule, now: dt.datetime) -> WaitlistEntry | None:
    """An offer of ``schedule`` (locked) ended untaken: the next entry gets the held slot, or,
    with nobody left waiting (or the session closed), it goes back to general stock."""
    if _open_for_offers(schedule, now):
        entry = _offer_to_next(schedule, now)
        if entry is not None:
            return entry
    Schedule.objects.filter(pk=schedule.pk).update(offered=F("offered") - 1)
    schedule.offered -= 1
    catalogue_cache.sessions_changed(doctor_ids=[schedule.doctor_id])
    schedule_id = schedule.pk
    transaction.on_commit(lambda: clear_sold_out(schedule_id))
    return None


def fulfil_offer(*, entry: WaitlistEntry, appointment: Appointment, now: dt.datetime) -> None:
    """The member took up their offer: ``appointment`` was booked on the held slot (in this
    transaction). OfferGone (and the caller's transaction rolls back) when the offer is no
    longer theirs: it ran out, was passed on, or holds another session's slot."""
    taken = WaitlistEntry.objects.filter(
        pk=entry.pk,
        member_id=appointment.member_id,
        status=WaitlistStatus.OFFERED,
        offered_schedule_id=appointment.schedule_id,
        offer_expires_at__gt=now,
    ).update(status=WaitlistStatus.BOOKED, appointment=appointment, closed_at=now)
    if not taken:
        raise errors.OfferGone()


def expire_offer(*, entry_id: int, now: dt.datetime | None = None) -> bool:
    """Close one offer that ran out untaken and pass its slot on. False when it was not due
    (taken, left, not yet run out). Safe to run twice, anywhere."""
    now = now or timezone.now()
    due = WaitlistEntry.objects.filter(
        pk=entry_id, status=WaitlistStatus.OFFERED, offer_expires_at__lte=now
    )
    schedule_id = due.values_list("offered_schedule_id", flat=True).first()
    if schedule_id is None:
        return False
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        if not due.update(status=WaitlistStatus.EXPIRED, closed_at=now):
            return False
        entry = WaitlistEntry.objects.select_related(
            "member", "offered_schedule__doctor__department"
        ).get(pk=entry_id)
        notices.waitlist_offer_expired(entry, now)
        _pass_on(schedule, now)
    return True


def expire_offers_of_schedule(schedule_id: int, *, now: dt.datetime) -> int:
    """Expire the offers of one session that ran out (a booking found it full, before the
    sweep came by). Returns how many; their slots went to the next member or back to stock."""
    due = WaitlistEntry.objects.filter(
        offered_schedule_id=schedule_id, status=WaitlistStatus.OFFERED, offer_expires_at__lte=now
    ).values_list("pk", flat=True)
    return sum(expire_offer(entry_id=pk, now=now) for pk in list(due))


def leave_waitlist(*, entry: WaitlistEntry, now: dt.datetime | None = None) -> WaitlistEntry:
    """The member leaves the waitlist (their own entry, looked up by the caller); an offer
    they hold is declined and passes to the next member at once."""
    now = now or timezone.now()
    for _attempt in range(3):  # the entry may be offered a slot between the read and the update
        with transaction.atomic():
            row = WaitlistEntry.objects.filter(pk=entry.pk, status__in=WAITLIST_OPEN)
            found = row.values_list("status", "offered_schedule_id").first()
            if found is None:
                raise errors.NotLeavable()
            status, schedule_id = found
            schedule = None
            if status == WaitlistStatus.OFFERED:
                schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
            if not row.filter(status=status).update(status=WaitlistStatus.LEFT, closed_at=now):
                continue
            if schedule is not None:
                _pass_on(schedule, now)
            entry.status, entry.closed_at = WaitlistStatus.LEFT, now
            return entry
    raise errors.NotLeavable()


def close_waitlist_of_schedule(*, schedule: Schedule, now: dt.datetime) -> int:
    """The session was cancelled by the clinic (its row locked by the caller): its waiting
    entries and its offers close, and no slot stays held. Returns how many closed."""
    closed = WaitlistEntry.objects.filter(
        Q(schedule=schedule, status=WaitlistStatus.WAITING)
        | Q(offered_schedule=schedule, status=WaitlistStatus.OFFERED)
    ).update(status=WaitlistStatus.CLOSED, closed_at=now)
    Schedule.objects.filter(pk=schedule.pk).update(offered=0)
    schedule.offered = 0
    return closed


def sweep_waitlist(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """The periodic job: expire offers that ran out (whether or not their own job ran) and close
    the waiting entries whose sessions or days have passed or were cancelled. Returns how many
    entries it closed."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    due = WaitlistEntry.objects.filter(
        status=WaitlistStatus.OFFERED, offer_expires_at__lte=now
    ).order_by("offer_expires_at")
    expired = sum(
        expire_offer(entry_id=pk, now=now) for pk in list(due.values_list("pk", flat=True)[:limit])
    )
    gone = (
        Q(schedule__date__lt=local.date())
        | Q(schedule__date=local.date(), schedule__start_time__lte=local.time())
        | ~Q(schedule__status=ScheduleStatus.PUBLISHED)
    )
    stale = WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).filter(
        Q(schedule__isnull=False) & gone | Q(schedule__isnull=True, date_to__lt=local.date())
    )
    return expired + stale.update(status=WaitlistStatus.CLOSED, closed_at=now)
