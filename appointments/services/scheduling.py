"""Writes of scheduling: generating sessions from weekly templates and releasing them (放号).

Generated sessions start as drafts, invisible and closed. The release job publishes every draft
whose opening has come for the earliest level (public opening minus the largest
booking_lead_hours); the booking rules then open it to each level at its own time. The job
claims rows with a conditional UPDATE, so it is idempotent, several workers may run it, and a
run after downtime publishes everything that fell due meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.errors import Invalid
from members.models import MemberLevel

from .. import catalogue_cache, gate
from ..choices import ScheduleStatus
from ..models import Doctor, Holiday, ReleaseRule, Schedule, ScheduleTemplate
from .booking import _sold_out_key


@dataclass(frozen=True)
class Generated:
    created: int
    existing: int  # already there (never touched, bookings or not)
    holidays: int  # dates skipped because the clinic is closed


def session_from_template(
    *, template: ScheduleTemplate, day: dt.date, rule: ReleaseRule
) -> Schedule:
    """The session ``template`` gives on ``day`` (a date on its weekday), unsaved, as a draft:
    the template's times, capacity, visit length and room, its fee or else the doctor's, and
    the public opening ``rule`` gives for that date."""
    return Schedule(
        doctor=template.doctor,
        date=day,
        session=template.session,
        start_time=template.start_time,
        end_time=template.end_time,
        capacity=template.capacity,
        minutes_per_visit=template.minutes_per_visit,
        slot_minutes=template.slot_minutes,
        room=template.room,
        room_en=template.room_en,
        fee=template.fee if template.fee is not None else template.doctor.registration_fee,
        status=ScheduleStatus.DRAFT,
        release_at=rule.release_at(day),
        template=template,
    )


def generate_schedules(
    *,
    start: dt.date,
    weeks: int,
    doctors: list[Doctor] | None = None,
    now: dt.datetime | None = None,
) -> Generated:
    """Create draft sessions from the active templates for ``weeks`` weeks from ``start``.

    Dates in the past and holidays are skipped; a session that exists already (same doctor,
    date and start) is left as it is, so running this twice creates nothing the second time.
    """
    if weeks < 1 or weeks > 12:
        raise Invalid(_("Sessions can be built 1 to 12 weeks ahead."), field="weeks")
    today = timezone.localdate(now or timezone.now())
    start = max(start, today)
    end = start + dt.timedelta(weeks=weeks)
    templates = ScheduleTemplate.objects.filter(is_active=True, doctor__is_active=True)
    if doctors is not None:
        templates = templates.filter(doctor__in=doctors)
    templates = list(templates.select_related("doctor"))
    holidays = set(
        Holiday.objects.filter(date__gte=start, date__lt=end).values_list("date", flat=True)
    )
    existing = set(
        Schedule.objects.filter(
            date__gte=start, date__lt=end, doctor__in={t.doctor_id for t in templates}
        ).values_list("doctor_id", "date", "start_time")
    )
    rule = ReleaseRule.current()
    new, skipped_existing, skipped_holidays = [], 0, 0
    day = start
    while day < end:
        for template in (t for t in templates if t.weekday == day.weekday()):
            if day in holidays:
                skipped_holidays += 1
            elif (template.doctor_id, day, template.start_time) in existing:
                skipped_existing += 1
            else:
                new.append(session_from_template(template=template, day=day, rule=rule))
        day += dt.timedelta(days=1)
    with transaction.atomic():
        # A concurrent run may have created some meanwhile: the unique constraint skips them.
        before = Schedule.objects.count()
        Schedule.objects.bulk_create(new, ignore_conflicts=True)
        created = Schedule.objects.count() - before
        if created:
            catalogue_cache.sessions_changed(doctor_ids=[s.doctor_id for s in new])
    return Generated(
        created=created,
        existing=skipped_existing + len(new) - created,
        holidays=skipped_holidays,
    )


def earliest_lead() -> dt.timedelta:
    """How long before the public opening the earliest level may book."""
    hours = MemberLevel.objects.aggregate(lead=Max("booking_lead_hours"))["lead"] or 0
    return dt.timedelta(hours=hours)


def release_due_schedules(*, now: dt.datetime | None = None) -> int:
    """Publish the drafts that are due (the release job). Returns how many it published."""
    now = now or timezone.now()
    due = Schedule.objects.filter(
        status=ScheduleStatus.DRAFT,
        release_at__lte=now + earliest_lead(),
        date__gte=timezone.localdate(now),
    )
    ids = list(due.values_list("pk", flat=True)[:5000])
    if not ids:
        return 0
    published = Schedule.objects.filter(pk__in=ids, status=ScheduleStatus.DRAFT).update(
        status=ScheduleStatus.PUBLISHED, updated_at=now
    )
    catalogue_cache.catalogue_changed()
    # Warm the cache: no stale "sold out" hint may answer the first bookers, and the release
    # gate holds each session's stock from the first attempt on.
    cache.delete_many([_sold_out_key(pk) for pk in ids])
    transaction.on_commit(lambda: _preheat(ids, now))
    return published


def _preheat(ids: list[int], now: dt.datetime) -> None:
    """After the release's commit: the free slots as PostgreSQL counts them now (members may
    have booked since the commit)."""
    for schedule in Schedule.objects.filter(pk__in=ids, status=ScheduleStatus.PUBLISHED):
        gate.preheat(
            schedule_id=schedule.pk,
            remaining=schedule.remaining,
            ends_at=schedule.ends_at,
            now=now,
        )
