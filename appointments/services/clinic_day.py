"""Writes of the clinic day: check-in, no-shows and the no-show ban (calling: .queue)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from medbook import audit
from members.message_templates import moment
from members.models import Member, MessageKind, User
from members.services import send_message

from .. import catalogue_cache, gate, hooks, selectors
from .. import exceptions as errors
from ..choices import AppointmentStatus
from ..models import Appointment, Schedule
from .booking import _clear_sold_out, check_in_appointment


def may_run_queue(*, user: User, schedule: Schedule) -> bool:
    """Doctors run their own queue; clinic staff with the permission run any."""
    return selectors.may_run_queue(user=user, schedule=schedule)


def check_in_patient(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """The desk checks a patient in (签到): confirmed → checked in. An appointment still
    awaiting payment (as it was read) is refused as not paid yet."""
    try:
        return check_in_appointment(appointment=appointment, now=now)
    except errors.IllegalTransition as exc:
        if appointment.status == AppointmentStatus.PENDING_PAYMENT:
            raise errors.NotPaidYet() from exc
        raise


def mark_no_show(
    *, appointment: Appointment, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The patient did not come (未到诊): confirmed, or checked in and called
    MEDBOOK_NO_SHOW_AFTER_CALLS times without coming in (selectors.no_show_refusal) → no_show.
    The slot leaves the count, and the ban rule is applied at once. Marked by staff, it is in
    the operation log."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=appointment.schedule_id)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        if by is not None and not may_run_queue(user=by, schedule=schedule):
            raise errors.NotAllowed()
        refusal = selectors.no_show_refusal(appointment=appointment, schedule=schedule, now=now)
        if refusal is not None:
            raise refusal
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.no_show_at = now
        appointment.save(update_fields=["status", "no_show_at"])
        Schedule.objects.filter(pk=schedule.pk).update(booked=F("booked") - 1)
        catalogue_cache.sessions_changed(doctor_ids=[schedule.doctor_id])
        appointment.schedule = schedule
        hooks.appointment_event("no_show", appointment, now=now)
        mark = gate.mark_of(user_id=appointment.member.user_id, patient_id=appointment.patient_id)
        transaction.on_commit(lambda: _clear_sold_out(schedule.pk, mark))
        apply_no_show_rule(member_id=appointment.member_id, now=now)
        if by is not None:
            audit.record(actor=by, action="appointment.no_show", target=appointment)
    return appointment


def apply_no_show_rule(*, member_id: int, now: dt.datetime) -> bool:
    """MEDBOOK_NO_SHOW_LIMIT no-shows within MEDBOOK_NO_SHOW_WINDOW_DAYS pause online booking for
    MEDBOOK_NO_SHOW_BAN_DAYS; the member is told. True if a ban started now."""
    member = Member.objects.select_for_update().get(pk=member_id)
    if member.is_banned(now):
        return False
    since = timezone.localdate(now) - dt.timedelta(days=settings.MEDBOOK_NO_SHOW_WINDOW_DAYS)
    recent = Appointment.objects.filter(
        member=member, status=AppointmentStatus.NO_SHOW, schedule__date__gte=since
    )
    if member.no_show_ban_lifted_at is not None:
        recent = recent.filter(no_show_at__gt=member.no_show_ban_lifted_at)
    if recent.count() < settings.MEDBOOK_NO_SHOW_LIMIT:
        return False
    member.banned_until = now + dt.timedelta(days=settings.MEDBOOK_NO_SHOW_BAN_DAYS)
    member.save(update_fields=["banned_until"])
    send_message(
        member=member,
        kind=MessageKind.NO_SHOW,
        template="no_show.ban",
        params={
            "count": settings.MEDBOOK_NO_SHOW_LIMIT,
            "days": settings.MEDBOOK_NO_SHOW_WINDOW_DAYS,
            "until": moment(member.banned_until),
        },
        now=now,
    )
    return True


def sweep_no_shows(*, now: dt.datetime | None = None, limit: int = 2000) -> int:
    """After a session ends plus MEDBOOK_NO_SHOW_GRACE_MINUTES, appointments still only
    confirmed become no-shows (the periodic job). Safe to run twice, anywhere."""
    now = now or timezone.now()
    cutoff = timezone.localtime(now - dt.timedelta(minutes=settings.MEDBOOK_NO_SHOW_GRACE_MINUTES))
    ended = Q(schedule__date__lt=cutoff.date()) | Q(
        schedule__date=cutoff.date(), schedule__end_time__lte=cutoff.time()
    )
    due = list(
        Appointment.objects.filter(ended, status=AppointmentStatus.CONFIRMED)
        .order_by("pk")
        .values_list("pk", "schedule_id")[:limit]
    )
    marked = 0
    for pk, schedule_id in due:
        try:
            mark_no_show(appointment=Appointment(pk=pk, schedule_id=schedule_id), by=None, now=now)
        except (errors.IllegalTransition, errors.NoShowTooEarly):
            continue  # checked in or cancelled meanwhile
        marked += 1
    return marked
