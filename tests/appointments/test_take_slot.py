"""The winner's path: the rules are checked before the session's row is locked, and the slot is
taken with one conditional UPDATE. A session changed between the caller's read and the booking
is decided on its fresh row; queue numbers stay the lowest free ones. Real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services
from appointments.choices import Channel, ScheduleStatus
from appointments.models import Appointment, Schedule
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def book(schedule: Schedule, member=None) -> Appointment:
    member = member or MemberFactory()
    return services.book_appointment(member=member, schedule=schedule, channel=Channel.WEB)


def test_the_session_row_is_taken_by_one_conditional_update_not_locked_for_the_rules() -> None:
    schedule = ScheduleFactory(capacity=5)

    with CaptureQueriesContext(connection) as queries:
        book(Schedule.objects.select_related("doctor__department").get(pk=schedule.pk))

    sql = [q["sql"] for q in queries.captured_queries]
    on_schedule = [s for s in sql if "appointments_schedule" in s]
    updates = [sql for sql in on_schedule if sql.startswith("UPDATE")]
    assert len(updates) == 1 and '"booked" < ' in updates[0]
    assert not [sql for sql in on_schedule if "FOR UPDATE" in sql]


def test_a_session_suspended_after_it_was_read_is_not_booked() -> None:
    schedule = ScheduleFactory(capacity=5)
    read = Schedule.objects.get(pk=schedule.pk)  # what the booking page read
    services.update_schedule(schedule=schedule, changes={"status": ScheduleStatus.SUSPENDED})

    with pytest.raises(errors.ScheduleSuspended):
        book(read)

    assert not Appointment.objects.filter(schedule=schedule).exists()
    assert Schedule.objects.get(pk=schedule.pk).booked == 0


def test_an_opening_moved_later_after_it_was_read_is_decided_on_the_new_time() -> None:
    schedule = ScheduleFactory(capacity=5)
    read = Schedule.objects.get(pk=schedule.pk)
    later = timezone.now() + dt.timedelta(days=1)
    services.update_schedule(schedule=schedule, changes={"release_at": later})

    with pytest.raises(errors.NotYetOpen):
        book(read)
    assert Schedule.objects.get(pk=schedule.pk).booked == 0


def test_a_stale_copy_of_a_full_session_books_the_slot_a_cancellation_freed(
    django_capture_on_commit_callbacks,
) -> None:
    schedule = ScheduleFactory(capacity=3)
    read = Schedule.objects.get(pk=schedule.pk)
    _first, second, _third = (book(read) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):  # the hint goes after commit
        services.cancel_appointment(appointment=second, by=None, reason="test")

    again = book(read)  # ``read`` still says booked=0: the database decides

    assert again.queue_number == 2  # the lowest free number
    assert Schedule.objects.get(pk=schedule.pk).booked == 3
    with pytest.raises(errors.SoldOut):
        book(read)


def test_a_full_session_read_as_full_is_refused_and_hinted_sold_out() -> None:
    schedule = ScheduleFactory(capacity=1)
    book(schedule)
    fresh = Schedule.objects.get(pk=schedule.pk)

    with pytest.raises(errors.SoldOut):
        book(fresh)
    with pytest.raises(errors.SoldOutHint):  # the hint now answers without the database
        book(fresh)


def test_the_order_and_the_booking_are_one_transaction() -> None:
    """``then`` failing leaves no appointment and the slot free."""
    schedule = ScheduleFactory(capacity=2)

    def fails(appointment: Appointment) -> None:
        raise RuntimeError("the order could not be written")

    with pytest.raises(RuntimeError):
        services.book_appointment(
            member=MemberFactory(), schedule=schedule, channel=Channel.WEB, then=fails
        )

    assert not Appointment.objects.filter(schedule=schedule).exists()
    assert Schedule.objects.get(pk=schedule.pk).booked == 0
    assert book(schedule).queue_number == 1
