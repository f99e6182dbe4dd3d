"""Writes of the clinic day: calling patients, no-shows and the no-show ban."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from members.models import Member, MessageKind, User
from members.services import send_message

from .. import exceptions as errors
from .. import selectors
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


def call_next(
    *, schedule: Schedule, by: User, now: dt.datetime | None = None
) -> Appointment | None:
    """叫号: call the patient who checked in first and has not been called yet (None if nobody
    is waiting)."""
    if not may_run_queue(user=by, schedule=schedule):
        raise errors.NotAllowed()
    now = now or timezone.now()
    with transaction.atomic():
        waiting = (
            Appointment.objects.select_for_update(skip_locked=True)
            .filter(schedule=schedule, status=AppointmentStatus.CHECKED_IN, called_at__isnull=True)
            .order_by("checked_in_at", "queue_number")
            .first()
        )
        if waiting is None:
            return None
        waiting.called_at = now
        waiting.save(update_fields=["called_at"])
    return waiting


def mark_no_show(
    *, appointment: Appointment, by: User | None, now: dt.datetime | None = None
) -> Appointment:
    """The patient did not come: confirmed (or called but gone) → no_show. The slot leaves the
    count, and the ban rule is applied at once."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=appointment.schedule_id)
        appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
        if by is not None and not may_run_queue(user=by, schedule=schedule):
            raise errors.NotAllowed()
        if appointment.status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN):
            raise errors.IllegalTransition(appointment.get_status_display(), _("marked no-show"))
        if now < schedule.starts_at:
            raise errors.IllegalTransition(
                appointment.get_status_display(), _("marked no-show before the session")
            )
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.no_show_at = now
        appointment.save(update_fields=["status", "no_show_at"])
        Schedule.objects.filter(pk=schedule.pk).update(booked=F("booked") - 1)
        user_id = appointment.member.user_id
        transaction.on_commit(lambda: _clear_sold_out(schedule.pk, user_id))
        apply_no_show_rule(member_id=appointment.member_id, now=now)
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
    until = formats.date_format(timezone.localtime(member.banned_until), "DATETIME_FORMAT")
    send_message(
        member=member,
        kind=MessageKind.NO_SHOW,
        title=_("Online booking paused until %(until)s") % {"until": until},
        body=_(
            "You missed %(count)d appointments within %(days)d days, so online booking is paused "
            "until %(until)s. Your existing appointments stay. If this is a mistake, please "
            "contact the front desk."
        )
        % {
            "count": settings.MEDBOOK_NO_SHOW_LIMIT,
            "days": settings.MEDBOOK_NO_SHOW_WINDOW_DAYS,
            "until": until,
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
        except errors.IllegalTransition:
            continue  # checked in or cancelled meanwhile
        marked += 1
    return marked
