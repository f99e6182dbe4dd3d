"""The waitlist (候补): who is offered a freed slot, how long it is held, what accepting, leaving
and letting it pass do, and that the session's counts stay exact throughout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, ScheduleStatus, WaitlistStatus
from appointments.models import Schedule, WaitlistEntry
from appointments.services.stock import sold_out_key
from billing import services
from billing.choices import OrderStatus
from members.models import Message, MessageKind
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def assert_offers_exact(schedule_id: int) -> None:
    """``offered`` counts the open offers of the session, and nothing is oversold."""
    schedule = Schedule.objects.get(pk=schedule_id)
    offers = WaitlistEntry.objects.filter(
        offered_schedule_id=schedule_id, status=WaitlistStatus.OFFERED
    ).count()
    assert schedule.offered == offers, (schedule.offered, offers)
    assert schedule.booked + schedule.offered <= schedule.capacity
    assert_schedule_invariants(schedule_id)


@pytest.fixture
def full(levels):
    """A two-slot session booked by two members (unpaid holds)."""
    schedule = ScheduleFactory(capacity=2)
    holders = [book(MemberFactory(level=levels["普通"]), schedule) for _ in range(2)]
    schedule.refresh_from_db()
    return schedule, holders


def cancel(appointment, now=None):
    return services.cancel_booking(
        appointment=appointment, by=appointment.member.user, reason="plans changed", now=now
    )


def test_it_refuses_joining_a_session_with_free_slots(levels, member) -> None:
    with pytest.raises(errors.SlotsStillFree):
        appointment_services.join_waitlist(member=member, schedule=ScheduleFactory())
    assert not WaitlistEntry.objects.exists()


def test_it_refuses_joining_twice_and_a_session_already_booked(full, member) -> None:
    schedule, holders = full
    appointment_services.join_waitlist(member=member, schedule=schedule)
    with pytest.raises(errors.AlreadyWaiting):
        appointment_services.join_waitlist(member=member, schedule=schedule)
    with pytest.raises(errors.AlreadyBooked):
        appointment_services.join_waitlist(member=holders[0].member, schedule=schedule)
    assert WaitlistEntry.objects.count() == 1


def test_a_freed_slot_goes_to_the_higher_level_then_the_earlier_member(full, levels) -> None:
    schedule, holders = full
    now = timezone.now()
    early = MemberFactory(level=levels["普通"])
    late_gold = MemberFactory(level=levels["金卡"])
    later = MemberFactory(level=levels["普通"])
    for minutes, who in ((0, early), (5, late_gold), (6, later)):
        appointment_services.join_waitlist(
            member=who, schedule=schedule, now=now + dt.timedelta(minutes=minutes)
        )

    cancel(holders[0])
    first = WaitlistEntry.objects.get(status=WaitlistStatus.OFFERED)
    cancel(holders[1])
    second = WaitlistEntry.objects.get(status=WaitlistStatus.OFFERED, member=early)

    assert first.member == late_gold
    assert second.member == early
    assert WaitlistEntry.objects.get(member=later).status == WaitlistStatus.WAITING
    schedule.refresh_from_db()
    assert (schedule.booked, schedule.offered, schedule.remaining) == (0, 2, 0)
    assert_offers_exact(schedule.pk)


def test_the_offer_is_told_by_message_and_text(full, member, settings) -> None:
    schedule, holders = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    cancel(holders[0])

    entry.refresh_from_db()
    message = Message.objects.get(member=member, kind=MessageKind.WAITLIST)
    assert MessageKind.WAITLIST in settings.MEDBOOK_TEXT_MESSAGE_KINDS
    assert timezone.localtime(entry.offer_expires_at).strftime("%H:%M") in message.title
    held = entry.offer_expires_at - entry.offered_at
    assert held == dt.timedelta(minutes=settings.MEDBOOK_WAITLIST_OFFER_MINUTES)


def test_the_held_slot_cannot_be_booked_by_anyone_else(full, member, other_member) -> None:
    schedule, holders = full
    appointment_services.join_waitlist(member=member, schedule=schedule)
    cancel(holders[0])
    cache.delete(sold_out_key(schedule.pk))  # the hint aside, the database says no

    with pytest.raises(errors.SoldOut):
        book(other_member, Schedule.objects.get(pk=schedule.pk))
    assert_offers_exact(schedule.pk)


def test_accepting_books_the_held_slot_as_an_unpaid_hold(full, member) -> None:
    schedule, holders = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    cancel(holders[0])
    entry.refresh_from_db()

    appointment = services.accept_offer(member=member, entry=entry)

    entry.refresh_from_db()
    assert appointment.status == AppointmentStatus.PENDING_PAYMENT
    assert appointment.order.status == OrderStatus.UNPAID
    assert (entry.status, entry.appointment) == (WaitlistStatus.BOOKED, appointment)
    schedule.refresh_from_db()
    assert (schedule.booked, schedule.offered) == (2, 0)
    assert_offers_exact(schedule.pk)


def test_accepting_after_the_offer_ran_out_books_nothing(full, member, settings) -> None:
    schedule, holders = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    cancel(holders[0])
    entry.refresh_from_db()
    late = entry.offer_expires_at + dt.timedelta(seconds=1)

    with pytest.raises(errors.OfferGone):
        services.accept_offer(member=member, entry=entry, now=late)

    assert not member.appointments.exists()
    assert_offers_exact(schedule.pk)


def test_an_unanswered_offer_passes_to_the_next_and_is_never_offered_again(full, levels) -> None:
    schedule, holders = full
    first, second = MemberFactory(level=levels["普通"]), MemberFactory(level=levels["普通"])
    now = timezone.now()
    a = appointment_services.join_waitlist(member=first, schedule=schedule, now=now)
    b = appointment_services.join_waitlist(
        member=second, schedule=schedule, now=now + dt.timedelta(seconds=1)
    )
    cancel(holders[0])
    a.refresh_from_db()

    later = a.offer_expires_at + dt.timedelta(seconds=1)
    assert appointment_services.sweep_waitlist(now=later) == 1
    assert appointment_services.sweep_waitlist(now=later) == 0  # safe to run twice

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (WaitlistStatus.EXPIRED, WaitlistStatus.OFFERED)
    # The second offer runs out too: nobody is left, so the slot is free for anyone again.
    appointment_services.sweep_waitlist(now=b.offer_expires_at + dt.timedelta(seconds=1))
    schedule.refresh_from_db()
    assert (schedule.offered, schedule.remaining) == (0, 1)
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).count() == 0
    assert_offers_exact(schedule.pk)


def test_leaving_with_an_offer_passes_it_on_at_once(full, levels) -> None:
    schedule, holders = full
    first, second = MemberFactory(level=levels["金卡"]), MemberFactory(level=levels["普通"])
    a = appointment_services.join_waitlist(member=first, schedule=schedule)
    b = appointment_services.join_waitlist(member=second, schedule=schedule)
    cancel(holders[0])

    appointment_services.leave_waitlist(entry=a)

    b.refresh_from_db()
    assert b.status == WaitlistStatus.OFFERED
    with pytest.raises(errors.NotLeavable):
        appointment_services.leave_waitlist(entry=a)
    assert_offers_exact(schedule.pk)


def test_an_unpaid_accepted_hold_that_runs_out_goes_to_the_next(full, levels) -> None:
    schedule, holders = full
    first, second = MemberFactory(level=levels["普通"]), MemberFactory(level=levels["普通"])
    now = timezone.now()
    a = appointment_services.join_waitlist(member=first, schedule=schedule, now=now)
    b = appointment_services.join_waitlist(
        member=second, schedule=schedule, now=now + dt.timedelta(seconds=1)
    )
    cancel(holders[0])
    a.refresh_from_db()
    appointment = services.accept_offer(member=first, entry=a)

    services.expire_unpaid_orders(now=appointment.order.expires_at + dt.timedelta(seconds=1))

    b.refresh_from_db()
    assert b.status == WaitlistStatus.OFFERED
    assert_offers_exact(schedule.pk)


def test_a_suspended_session_closes_its_waitlist_and_holds_nothing(full, member, admin_user):
    schedule, holders = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    cancel(holders[0])

    services.suspend_schedule(schedule=schedule, by=admin_user, reason="doctor ill")

    entry.refresh_from_db()
    schedule.refresh_from_db()
    assert entry.status == WaitlistStatus.CLOSED
    assert (schedule.status, schedule.offered, schedule.booked) == (ScheduleStatus.SUSPENDED, 0, 0)


def test_any_session_of_a_doctor_on_these_days(full, member, levels) -> None:
    schedule, holders = full
    day = schedule.date
    with pytest.raises(errors.WaitlistDaysInvalid):
        appointment_services.join_doctor_waitlist(
            member=member, doctor=schedule.doctor, date_from=day, date_to=day - dt.timedelta(1)
        )
    entry = appointment_services.join_doctor_waitlist(
        member=member, doctor=schedule.doctor, date_from=day, date_to=day + dt.timedelta(days=2)
    )
    cancel(holders[0])

    entry.refresh_from_db()
    assert (entry.status, entry.offered_schedule) == (WaitlistStatus.OFFERED, schedule)
    appointment = services.accept_offer(member=member, entry=entry)
    assert appointment.schedule_id == schedule.pk
    assert_offers_exact(schedule.pk)


def test_a_free_session_accepted_is_confirmed_at_once(levels, member) -> None:
    schedule = ScheduleFactory(capacity=1, fee=Decimal("0"))
    holder = book(MemberFactory(level=levels["普通"]), schedule)
    entry = appointment_services.join_waitlist(
        member=member, schedule=Schedule.objects.get(pk=schedule.pk)
    )
    cancel(holder)
    entry.refresh_from_db()

    appointment = services.accept_offer(member=member, entry=entry)

    assert appointment.status == AppointmentStatus.CONFIRMED
    assert_offers_exact(schedule.pk)
