"""Time slots (分时段): a session split into slots of ``slot_minutes``, each holding a contiguous
range of queue numbers; a member chooses a slot, the number and the estimated time follow it.
Sessions that are not split book as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from appointments import exceptions as errors
from appointments import selectors, services
from appointments.choices import Channel
from appointments.models import Appointment, Schedule, ScheduleTemplate
from appointments.services.scheduling import session_from_template
from appointments.services.stock import sold_out_key
from appointments.slots import slot_of_number, slot_ranges, slots_of
from tests.appointments.factories import ScheduleFactory, book
from tests.appointments.invariants import assert_schedule_invariants
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core]


def split(**kwargs) -> Schedule:
    """08:00–10:00 in 30-minute slots; capacity 8: two numbers a slot."""
    kwargs.setdefault("capacity", 8)
    return ScheduleFactory(
        start_time=dt.time(8, 0), end_time=dt.time(10, 0), slot_minutes=30, **kwargs
    )


def book_slot(member, schedule: Schedule, slot: int | None) -> Appointment:
    return services.book_appointment(
        member=member, schedule=schedule, channel=Channel.WEB, slot=slot
    )


@given(capacity=st.integers(min_value=0, max_value=300), count=st.integers(1, 60))
def test_the_ranges_cover_every_number_once_in_order(capacity: int, count: int) -> None:
    ranges = slot_ranges(capacity=capacity, count=count)

    assert len(ranges) == count
    assert [n for numbers in ranges for n in numbers] == list(range(1, capacity + 1))
    sizes = [len(numbers) for numbers in ranges]
    assert max(sizes) - min(sizes) <= 1  # spread evenly
    assert sizes == sorted(sizes, reverse=True)  # the earlier slots take the extra ones


def test_a_capacity_that_does_not_divide_gives_the_earlier_slots_one_more() -> None:
    schedule = Schedule(
        start_time=dt.time(8, 0), end_time=dt.time(11, 30), slot_minutes=30, capacity=10
    )
    slots = slots_of(schedule)
    assert [(s.start, s.end) for s in slots][:2] == [
        (dt.time(8, 0), dt.time(8, 30)),
        (dt.time(8, 30), dt.time(9, 0)),
    ]
    assert slots[-1].end == dt.time(11, 30)
    assert [list(s.numbers) for s in slots] == [[1, 2], [3, 4], [5, 6], [7], [8], [9], [10]]


def test_more_slots_than_places_lists_only_the_slots_with_a_place() -> None:
    schedule = Schedule(
        start_time=dt.time(8, 0), end_time=dt.time(11, 30), slot_minutes=30, capacity=3
    )
    assert [(s.index, s.start, list(s.numbers)) for s in slots_of(schedule)] == [
        (0, dt.time(8, 0), [1]),
        (1, dt.time(8, 30), [2]),
        (2, dt.time(9, 0), [3]),
    ]


def test_a_session_shorter_than_a_slot_is_one_slot() -> None:
    schedule = Schedule(
        start_time=dt.time(8, 0), end_time=dt.time(8, 20), slot_minutes=30, capacity=4
    )
    assert [(s.start, s.end, s.size) for s in slots_of(schedule)] == [
        (dt.time(8, 0), dt.time(8, 20), 4)
    ]


@given(
    capacity=st.integers(1, 40),
    minutes=st.sampled_from([10, 15, 20, 30, 45, 60]),
    length=st.integers(5, 300),
)
def test_every_number_is_expected_inside_its_slot(capacity, minutes, length) -> None:
    end = dt.datetime(2026, 1, 5, 8, 0) + dt.timedelta(minutes=length)
    schedule = Schedule(
        date=dt.date(2026, 1, 5),
        start_time=dt.time(8, 0),
        end_time=min(end, dt.datetime(2026, 1, 5, 23, 59)).time(),
        slot_minutes=minutes,
        capacity=capacity,
        minutes_per_visit=15,
    )
    for number in range(1, capacity + 1):
        slot = slot_of_number(schedule, number)
        assert slot is not None
        assert slot.start <= schedule.estimated_time(number) < slot.end


def test_a_session_that_is_not_split_keeps_one_visit_length_per_number() -> None:
    schedule = Schedule(
        date=dt.date(2026, 1, 5),
        start_time=dt.time(8, 0),
        end_time=dt.time(11, 30),
        minutes_per_visit=15,
        capacity=10,
    )
    assert not schedule.is_split and slots_of(schedule) == []
    assert schedule.estimated_time(3) == dt.time(8, 30)


@pytest.mark.django_db
def test_a_member_gets_a_number_and_a_time_inside_the_chosen_slot(member) -> None:
    schedule = split()

    appointment = book_slot(member, schedule, 2)

    assert appointment.queue_number == 5
    assert appointment.estimated_time == dt.time(9, 0)
    assert appointment.time_slot.start == dt.time(9, 0)
    assert_schedule_invariants(schedule.pk)


@pytest.mark.django_db
def test_a_full_slot_is_refused_while_the_others_have_places(member) -> None:
    schedule = split()
    book_slot(MemberFactory(), schedule, 1)
    book_slot(MemberFactory(), schedule, 1)

    with pytest.raises(errors.SlotFull) as refused:
        book_slot(member, schedule, 1)

    assert refused.value.status == 409
    assert refused.value.code == "slot_full"
    schedule.refresh_from_db()
    assert schedule.booked == 2 and schedule.sold_out_at is None
    assert not Appointment.objects.filter(member=member).exists()
    assert book_slot(member, schedule, 2).queue_number == 5
    assert_schedule_invariants(schedule.pk)


@pytest.mark.django_db
def test_without_a_choice_the_earliest_slot_with_a_place_is_taken(member) -> None:
    schedule = split()
    book_slot(MemberFactory(), schedule, 0)
    book_slot(MemberFactory(), schedule, 0)

    appointment = book(member, schedule)  # front desk, walk-in, API without a slot

    assert appointment.queue_number == 3
    assert appointment.time_slot.index == 1
    assert appointment.estimated_time == dt.time(8, 30)


@pytest.mark.django_db
def test_a_freed_place_in_a_slot_can_be_chosen_again(member, front_desk) -> None:
    schedule = split()
    first = book_slot(MemberFactory(), schedule, 3)
    book_slot(MemberFactory(), schedule, 3)
    services.cancel_appointment(appointment=first, by=front_desk, reason="")

    assert book_slot(member, schedule, 3).queue_number == first.queue_number
    assert_schedule_invariants(schedule.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("slot", [-1, 4, 99])
def test_a_slot_the_session_does_not_have_is_refused_and_writes_nothing(member, slot) -> None:
    schedule = split()

    with pytest.raises(errors.NoSuchSlot) as refused:
        book_slot(member, schedule, slot)

    assert refused.value.status == 400 and refused.value.field == "slot"
    schedule.refresh_from_db()
    assert schedule.booked == 0 and not Appointment.objects.exists()


@pytest.mark.django_db
def test_choosing_a_slot_of_a_session_that_is_not_split_is_refused(member) -> None:
    schedule = ScheduleFactory()
    with pytest.raises(errors.NoSuchSlot):
        book_slot(member, schedule, 0)
    assert book_slot(member, schedule, None).queue_number == 1


@pytest.mark.django_db
def test_a_sold_out_session_answers_sold_out_not_slot_full(member) -> None:
    schedule = split(capacity=2)  # two slots of one place
    book_slot(MemberFactory(), schedule, 0)
    book_slot(MemberFactory(), schedule, 1)
    cache.delete(sold_out_key(schedule.pk))

    with pytest.raises(errors.SoldOut):
        book_slot(member, schedule, 0)


@pytest.mark.django_db
def test_the_sold_out_hint_still_answers_without_a_query(member, django_assert_num_queries):
    schedule = split()
    cache.set(sold_out_key(schedule.pk), 1)
    with django_assert_num_queries(0), pytest.raises(errors.SoldOutHint):
        book_slot(member, schedule, 1)


@pytest.mark.django_db
def test_the_booking_page_lists_each_slot_with_its_free_places(member) -> None:
    schedule = split()
    book_slot(MemberFactory(), schedule, 1)
    book_slot(MemberFactory(), schedule, 1)
    book_slot(MemberFactory(), schedule, 2)

    choices = selectors.slot_choices(schedule=schedule)

    assert [(c.index, c.start, c.end, c.free) for c in choices] == [
        (0, dt.time(8, 0), dt.time(8, 30), 2),
        (1, dt.time(8, 30), dt.time(9, 0), 0),
        (2, dt.time(9, 0), dt.time(9, 30), 1),
        (3, dt.time(9, 30), dt.time(10, 0), 2),
    ]
    assert selectors.slot_choices(schedule=ScheduleFactory()) == []


@pytest.mark.django_db
def test_sessions_made_from_a_weekly_template_keep_its_slots() -> None:
    doctor = ScheduleFactory().doctor
    template = ScheduleTemplate.objects.create(
        doctor=doctor,
        weekday=0,
        session="morning",
        start_time=dt.time(8, 0),
        end_time=dt.time(11, 0),
        capacity=12,
        slot_minutes=30,
    )

    class Rule:
        def release_at(self, day):
            return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    session = session_from_template(template=template, day=dt.date(2026, 1, 5), rule=Rule())
    assert session.slot_minutes == 30 and len(slots_of(session)) == 6
