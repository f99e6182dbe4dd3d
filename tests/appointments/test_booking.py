"""The booking core: every domain error, the booking window per level, the cancellation cutoff.

Marked ``core``: the test command runs these on SQLite too, so the embedded default stays correct.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone, translation

from appointments import exceptions as errors
from appointments import selectors, services
from appointments.choices import AppointmentStatus, ScheduleStatus
from appointments.models import Appointment, Schedule
from medbook.errors import Invalid
from tests.appointments.factories import ScheduleFactory, book
from tests.members.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    """Cancel as the services do in production: on-commit callbacks run."""

    def run(appointment, by, reason="", now=None) -> Appointment:
        with django_capture_on_commit_callbacks(execute=True):
            return services.cancel_appointment(
                appointment=appointment, by=by, reason=reason, now=now
            )

    return run


def schedule_at(starts_in: dt.timedelta, **kwargs) -> Schedule:
    """A schedule whose session starts ``starts_in`` from now (clinic time)."""
    start = timezone.localtime() + starts_in
    kwargs.setdefault("release_at", timezone.now() - dt.timedelta(days=1))
    return ScheduleFactory(
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=(start + dt.timedelta(minutes=1)).time().replace(microsecond=0)
        if (start + dt.timedelta(minutes=1)).date() == start.date()
        else dt.time(23, 59, 59),
        **kwargs,
    )


def test_it_books_the_first_number_pending_payment(member) -> None:
    schedule = ScheduleFactory(fee=Decimal("50.00"))

    appointment = book(member, schedule)

    assert appointment.status == AppointmentStatus.PENDING_PAYMENT
    assert appointment.queue_number == 1
    assert appointment.estimated_time == dt.time(8, 0)
    assert appointment.fee == Decimal("50.00")
    schedule.refresh_from_db()
    assert schedule.booked == 1


def test_it_confirms_a_free_session_at_once(member) -> None:
    appointment = book(member, ScheduleFactory(fee=Decimal("0")))

    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.confirmed_at is not None


def test_it_hands_out_numbers_in_order_with_estimated_times(levels) -> None:
    schedule = ScheduleFactory(minutes_per_visit=20)
    appointments = [book(MemberFactory(), schedule) for _ in range(3)]

    assert [a.queue_number for a in appointments] == [1, 2, 3]
    assert [a.estimated_time for a in appointments] == [
        dt.time(8, 0),
        dt.time(8, 20),
        dt.time(8, 40),
    ]


def test_it_refuses_a_full_schedule(levels) -> None:
    schedule = ScheduleFactory(capacity=2)
    book(MemberFactory(), schedule)
    book(MemberFactory(), schedule)

    with pytest.raises(errors.SoldOut, match="已约满"):
        book(MemberFactory(), schedule)
    schedule.refresh_from_db()
    assert schedule.booked == 2


def test_it_refuses_a_second_booking_of_the_same_session(member) -> None:
    schedule = ScheduleFactory()
    book(member, schedule)

    with pytest.raises(errors.AlreadyBooked):
        book(member, schedule)
    assert Appointment.objects.filter(member=member).count() == 1


def test_it_refuses_more_upcoming_appointments_than_the_level_allows(member) -> None:
    assert member.level.max_active_appointments == 2
    book(member, ScheduleFactory())
    book(member, ScheduleFactory())

    with pytest.raises(errors.TierLimitReached, match="最多可同时持有 2 个"):
        book(member, ScheduleFactory())


def test_the_limit_names_the_level_in_the_readers_language(member) -> None:
    member.level.name_en = "Standard"
    member.level.save(update_fields=["name_en"])
    book(member, ScheduleFactory())
    book(member, ScheduleFactory())

    with translation.override("en"), pytest.raises(errors.TierLimitReached) as refusal:
        book(member, ScheduleFactory())
    assert "As a Standard member" in str(refusal.value)


def test_a_cancelled_appointment_no_longer_counts_towards_the_limit(member, cancel) -> None:
    first = book(member, ScheduleFactory())
    book(member, ScheduleFactory())
    cancel(first, member.user, "")

    assert book(member, ScheduleFactory()).status == AppointmentStatus.PENDING_PAYMENT


def test_it_refuses_a_banned_member_and_says_until_when(member) -> None:
    member.banned_until = timezone.now() + dt.timedelta(days=10)
    member.save(update_fields=["banned_until"])

    with pytest.raises(errors.MemberBanned) as excinfo:
        book(member, ScheduleFactory())
    assert excinfo.value.until == member.banned_until


def test_it_refuses_a_suspended_schedule(member) -> None:
    with pytest.raises(errors.ScheduleSuspended):
        book(member, ScheduleFactory(status=ScheduleStatus.SUSPENDED))


def test_it_refuses_a_draft_schedule(member) -> None:
    with pytest.raises(errors.ScheduleUnavailable):
        book(member, ScheduleFactory(status=ScheduleStatus.DRAFT))


def test_it_refuses_a_session_that_has_started(member) -> None:
    schedule = schedule_at(-dt.timedelta(minutes=5))

    with pytest.raises(errors.ScheduleInPast):
        book(member, schedule)


def test_it_refuses_before_release_and_names_the_opening_time(member) -> None:
    release_at = timezone.now() + dt.timedelta(hours=3)
    schedule = ScheduleFactory(release_at=release_at)

    with pytest.raises(errors.NotYetOpen) as excinfo:
        book(member, schedule)
    assert excinfo.value.opens_at == release_at
    local = timezone.localtime(release_at)
    assert f"{local:%H:%M}" in excinfo.value.message or str(local.hour) in excinfo.value.message


@pytest.mark.parametrize(
    ("level_key", "lead_hours"), [("普通", 0), ("银卡", 2), ("金卡", 12), ("钻石", 24)]
)
def test_each_level_may_book_its_lead_hours_before_the_public(levels, level_key, lead_hours):
    member = MemberFactory(level=levels[level_key])
    release_at = timezone.now() + dt.timedelta(days=2)
    schedule = ScheduleFactory(release_at=release_at, date=timezone.localdate() + dt.timedelta(5))
    opens_at = release_at - dt.timedelta(hours=lead_hours)

    with pytest.raises(errors.NotYetOpen) as excinfo:
        book(member, schedule, now=opens_at - dt.timedelta(seconds=1))
    assert excinfo.value.opens_at == opens_at
    assert book(member, schedule, now=opens_at).queue_number == 1


def test_cancelling_frees_the_slot_and_its_number_at_once(levels, cancel) -> None:
    schedule = ScheduleFactory(capacity=1)
    first_member, second_member = MemberFactory(), MemberFactory()
    first = book(first_member, schedule)
    with pytest.raises(errors.SoldOut):
        book(second_member, schedule)

    cancelled = cancel(first, first_member.user, "行程有变")

    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancel_reason == "行程有变"
    assert cancelled.schedule.booked == 0
    assert book(second_member, schedule).queue_number == 1


def test_a_member_may_cancel_before_the_cutoff(member, cancel) -> None:
    schedule = schedule_at(dt.timedelta(hours=25))
    appointment = book(member, schedule)

    cancel(appointment, member.user, "")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_member_without_the_privilege_cannot_cancel_after_the_cutoff(member, cancel) -> None:
    schedule = schedule_at(dt.timedelta(hours=23))
    appointment = book(member, schedule)

    with pytest.raises(errors.CancellationClosed, match="24 小时"):
        cancel(appointment, member.user, "")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING_PAYMENT


def test_a_level_with_late_cancellation_may_cancel_after_the_cutoff(levels, cancel) -> None:
    gold = MemberFactory(level=levels["金卡"])
    appointment = book(gold, schedule_at(dt.timedelta(hours=2)))

    cancel(appointment, gold.user, "")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_nobody_cancels_online_once_the_session_started(levels, cancel) -> None:
    gold = MemberFactory(level=levels["金卡"])
    schedule = schedule_at(dt.timedelta(hours=2))
    appointment = book(gold, schedule)

    with pytest.raises(errors.SessionStarted):
        cancel(appointment, gold.user, now=schedule.starts_at + dt.timedelta(minutes=1))


def test_staff_with_the_permission_cancel_after_the_cutoff(member, cancel) -> None:
    appointment = book(member, schedule_at(dt.timedelta(hours=1)))
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="cancel_any_appointment"))

    cancel(appointment, staff, "患者来电取消")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by == staff


def test_another_member_cannot_cancel(member, other_member, cancel) -> None:
    appointment = book(member, ScheduleFactory())

    with pytest.raises(errors.NotAllowed):
        cancel(appointment, other_member.user, "")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING_PAYMENT


@pytest.mark.parametrize(
    "status",
    [
        AppointmentStatus.CANCELLED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
    ],
)
def test_only_pending_or_confirmed_appointments_can_be_cancelled(member, status, cancel) -> None:
    appointment = book(member, ScheduleFactory())
    Appointment.objects.filter(pk=appointment.pk).update(status=status)

    with pytest.raises(errors.NotCancellable):
        cancel(appointment, member.user, "")


def test_cancelling_twice_changes_nothing_the_second_time(member, cancel) -> None:
    schedule = ScheduleFactory()
    appointment = book(member, schedule)
    cancel(appointment, member.user, "")

    with pytest.raises(errors.NotCancellable):
        cancel(appointment, member.user, "")
    schedule.refresh_from_db()
    assert schedule.booked == 0


def test_the_sold_out_hint_answers_without_the_database(levels, django_assert_num_queries):
    schedule = ScheduleFactory(capacity=1)
    book(MemberFactory(), schedule)
    loser = MemberFactory()

    with django_assert_num_queries(0), pytest.raises(errors.SoldOut):
        book(loser, schedule)


def test_a_cancellation_clears_the_sold_out_hint(levels, cancel) -> None:
    schedule = ScheduleFactory(capacity=1)
    winner = MemberFactory()
    appointment = book(winner, schedule)

    cancel(appointment, winner.user, "")

    assert book(MemberFactory(), schedule).queue_number == 1


def test_a_stale_sold_out_hint_only_lasts_until_it_expires(levels, settings) -> None:
    schedule = ScheduleFactory(capacity=1)
    cache.set(f"schedule:{schedule.pk}:sold_out", True, 60)
    with pytest.raises(errors.SoldOut):
        book(MemberFactory(), schedule)

    cache.delete(f"schedule:{schedule.pk}:sold_out")
    assert book(MemberFactory(), schedule).queue_number == 1


def test_availability_describes_each_state(member) -> None:
    now = timezone.now()
    open_schedule = ScheduleFactory(capacity=3)
    book(member, open_schedule)
    full = ScheduleFactory(capacity=1)
    book(MemberFactory(), full)
    later = ScheduleFactory(release_at=now + dt.timedelta(hours=5))
    suspended = ScheduleFactory(status=ScheduleStatus.SUSPENDED)

    states = {
        name: selectors.schedule_availability(schedule=Schedule.objects.get(pk=s.pk), now=now)
        for name, s in [
            ("open", open_schedule),
            ("full", full),
            ("later", later),
            ("suspended", suspended),
        ]
    }

    assert states["open"].state == "bookable"
    assert states["open"].remaining == 2
    assert states["full"].state == "full"
    assert states["later"].state == "not_open"
    assert states["later"].opens_at == later.release_at
    assert states["suspended"].state == "suspended"


def test_availability_for_a_member_includes_their_own_limits(member, levels) -> None:
    schedule = ScheduleFactory()
    book(member, schedule)
    schedule.refresh_from_db()

    mine = selectors.schedule_availability(schedule=schedule, member=member)
    theirs = selectors.schedule_availability(schedule=schedule, member=MemberFactory())

    assert mine.state == "bookable"
    assert isinstance(mine.blocker, errors.AlreadyBooked)
    assert not mine.can_book
    assert theirs.can_book


def test_availability_shows_the_earlier_opening_of_the_members_level(levels) -> None:
    diamond = MemberFactory(level=levels["钻石"])
    release_at = timezone.now() + dt.timedelta(hours=30)
    schedule = ScheduleFactory(release_at=release_at, date=timezone.localdate() + dt.timedelta(4))

    availability = selectors.schedule_availability(schedule=schedule, member=diamond)

    assert availability.state == "not_open"
    assert availability.opens_at == release_at - dt.timedelta(hours=24)
    assert availability.public_opens_at == release_at


def test_finishing_past_schedules_is_idempotent(levels) -> None:
    past = ScheduleFactory(date=timezone.localdate() - dt.timedelta(days=1))
    future = ScheduleFactory()

    assert services.finish_past_schedules() == 1
    assert services.finish_past_schedules() == 0
    past.refresh_from_db()
    future.refresh_from_db()
    assert past.status == ScheduleStatus.FINISHED
    assert future.status == ScheduleStatus.PUBLISHED


def test_refusals_are_worded_in_the_visitors_language(levels) -> None:
    schedule = ScheduleFactory(capacity=1)
    book(MemberFactory(), schedule)
    cache.clear()

    with translation.override("en"), pytest.raises(errors.SoldOut) as english:
        book(MemberFactory(), schedule)
    with translation.override("zh-hans"), pytest.raises(errors.SoldOut) as chinese:
        book(MemberFactory(), schedule)

    assert english.value.message == "This session is fully booked. Please choose another time."
    assert chinese.value.message == "该时段号源已约满，请选择其他时间。"


def test_staff_edits_never_overwrite_the_booked_counter(member) -> None:
    schedule = ScheduleFactory(capacity=10)
    stale = Schedule.objects.get(pk=schedule.pk)
    book(member, schedule)

    services.update_schedule(schedule=stale, changes={"room": "7诊室", "capacity": 12})

    schedule.refresh_from_db()
    assert (schedule.room, schedule.capacity, schedule.booked) == ("7诊室", 12, 1)


def test_capacity_cannot_drop_below_a_number_already_handed_out(levels) -> None:
    schedule = ScheduleFactory(capacity=5)
    first, second = MemberFactory(), MemberFactory()
    book(first, schedule)
    third_number = book(second, schedule)
    assert third_number.queue_number == 2

    with pytest.raises(Invalid, match="不能少于 2") as refused:
        services.update_schedule(schedule=schedule, changes={"capacity": 1})
    assert (refused.value.field, refused.value.status) == ("capacity", 400)
    schedule.refresh_from_db()
    assert schedule.capacity == 5


def test_only_schedule_fields_staff_own_can_be_changed(levels) -> None:
    with pytest.raises(Invalid):
        services.update_schedule(schedule=ScheduleFactory(), changes={"booked": 0})


def test_booking_works_while_redis_is_down(levels, settings, cancel) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
    schedule = ScheduleFactory(capacity=1)
    winner, loser = MemberFactory(), MemberFactory()

    appointment = book(winner, schedule)
    with pytest.raises(errors.SoldOut):
        book(loser, schedule)
    cancel(appointment, winner.user)

    assert book(loser, schedule).queue_number == 1
    schedule.refresh_from_db()
    assert schedule.booked == 1


def test_the_returned_appointment_carries_the_fresh_counter(member) -> None:
    schedule = ScheduleFactory(capacity=3)

    appointment = book(member, schedule)

    assert appointment.schedule.booked == 1
    assert appointment.schedule.remaining == 2
