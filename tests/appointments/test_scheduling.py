"""Generating sessions from weekly templates, and the release job (放号)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments import services
from appointments.models import Holiday, ReleaseRule, Schedule, ScheduleTemplate
from appointments.selectors import schedule_availability
from appointments.services.booking import _sold_out_key
from medbook.errors import Invalid
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def next_monday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


@pytest.fixture
def templates(levels):
    doctor = DoctorFactory(registration_fee="60.00")
    monday = ScheduleTemplate.objects.create(
        doctor=doctor,
        weekday=0,
        session="morning",
        start_time=dt.time(8),
        end_time=dt.time(12),
        capacity=12,
        room="3诊室",
    )
    thursday = ScheduleTemplate.objects.create(
        doctor=doctor,
        weekday=3,
        session="afternoon",
        start_time=dt.time(14),
        end_time=dt.time(17),
        capacity=8,
        fee="100.00",
    )
    return doctor, monday, thursday


def test_it_builds_draft_sessions_from_templates_with_the_release_rule(templates) -> None:
    _doctor, _monday, _thursday = templates
    ReleaseRule.objects.update_or_create(
        pk=1, defaults={"days_ahead": 7, "release_time": dt.time(8)}
    )

    result = services.generate_schedules(start=next_monday(), weeks=2)

    assert result.created == 4
    sessions = list(Schedule.objects.order_by("date"))
    assert [s.date.weekday() for s in sessions] == [0, 3, 0, 3]
    first = sessions[0]
    assert (first.status, first.capacity, first.room, first.fee) == ("draft", 12, "3诊室", 60)
    assert sessions[1].fee == 100  # the template's own fee wins
    opens = timezone.localtime(first.release_at)
    assert (opens.date(), opens.time()) == (first.date - dt.timedelta(days=7), dt.time(8))


def test_running_it_again_creates_nothing_and_keeps_booked_sessions(templates, member) -> None:
    services.generate_schedules(start=next_monday(), weeks=2)
    booked = Schedule.objects.order_by("date").first()
    booked.capacity = 3
    booked.status = "published"
    booked.release_at = timezone.now() - dt.timedelta(hours=1)
    booked.save()
    services.book_appointment(member=member, schedule=booked, channel="web")

    again = services.generate_schedules(start=next_monday(), weeks=2)

    assert (again.created, again.existing) == (0, 4)
    booked.refresh_from_db()
    assert (booked.capacity, booked.booked, booked.status) == (3, 1, "published")


def test_holidays_are_skipped(templates) -> None:
    Holiday.objects.create(date=next_monday(), name="元旦")
    result = services.generate_schedules(start=next_monday(), weeks=1)
    assert (result.created, result.holidays) == (1, 1)
    assert not Schedule.objects.filter(date=next_monday()).exists()


def test_days_in_the_past_are_never_generated(templates) -> None:
    result = services.generate_schedules(
        start=timezone.localdate() - dt.timedelta(days=14), weeks=2
    )
    assert not Schedule.objects.filter(date__lt=timezone.localdate()).exists()
    assert result.created <= 4


def draft(release_in: dt.timedelta, **kwargs) -> Schedule:
    return ScheduleFactory(
        status="draft",
        release_at=timezone.now() + release_in,
        date=timezone.localdate() + dt.timedelta(days=8),
        **kwargs,
    )


def test_the_release_job_publishes_when_the_earliest_level_may_book(levels) -> None:
    # 钻石 may book 24 hours before the public.
    soon = draft(dt.timedelta(hours=20))
    later = draft(dt.timedelta(hours=30))

    assert services.release_due_schedules() == 1

    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.status, later.status) == ("published", "draft")
    now = timezone.now()
    diamond = MemberFactory(level=levels["钻石"])
    ordinary = MemberFactory(level=levels["普通"])
    assert schedule_availability(schedule=soon, member=diamond, now=now).can_book
    public = schedule_availability(schedule=soon, member=ordinary, now=now)
    assert public.state == "not_open" and public.opens_at == soon.release_at


def test_the_release_job_is_idempotent_and_catches_up_after_a_gap(levels) -> None:
    missed = [draft(-dt.timedelta(days=days)) for days in (1, 2, 3)]  # workers were down
    assert services.release_due_schedules() == 3
    assert services.release_due_schedules() == 0
    assert {s.status for s in Schedule.objects.filter(pk__in=[m.pk for m in missed])} == {
        "published"
    }


def test_release_clears_a_stale_sold_out_hint(levels) -> None:
    from django.core.cache import cache

    due = draft(-dt.timedelta(minutes=1))
    cache.set(_sold_out_key(due.pk), True, 60)
    services.release_due_schedules()
    assert cache.get(_sold_out_key(due.pk)) is None


def test_drafts_of_past_days_stay_unpublished(levels) -> None:
    old = ScheduleFactory(
        status="draft",
        release_at=timezone.now() - dt.timedelta(days=9),
        date=timezone.localdate() - dt.timedelta(days=1),
    )
    assert services.release_due_schedules() == 0
    old.refresh_from_db()
    assert old.status == "draft"


@pytest.mark.django_db
def test_building_too_far_ahead_is_refused_with_a_reason() -> None:
    with pytest.raises(Invalid) as refused:
        services.generate_schedules(start=next_monday(), weeks=13)
    assert refused.value.field == "weeks"
    assert not Schedule.objects.exists()
