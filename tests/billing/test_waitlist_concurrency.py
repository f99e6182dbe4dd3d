"""The waitlist (候补) under real concurrency on PostgreSQL: seeded random runs in which threads,
each with its own connection, cancel bookings, book the session from outside the waitlist,
take up offers and expire them, all at once. Whatever the interleaving, invariants 1-3 hold,
``offered`` counts exactly the open offers, nobody is offered a slot twice and the offers went
down the waitlist in its order (level, then time joined)."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest
from django.conf import settings
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services as appointment_services
from appointments.choices import ACTIVE_STATUSES, WaitlistStatus
from appointments.models import Appointment, Schedule, WaitlistEntry
from appointments.services.waitlist import EXPIRE_OFFER_TASK
from billing import services
from medbook.models import OutboxTask
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY = 3
WAITING = 6


def _cancel(appointment_id: int, pause: float):
    def job():
        time.sleep(pause)
        appointment = Appointment.objects.select_related("member__user").get(pk=appointment_id)
        return services.cancel_booking(
            appointment=appointment, by=appointment.member.user, reason="plans changed"
        )

    return job


def _book_from_outside(member_id: int, schedule_id: int, pause: float):
    def job():
        time.sleep(pause)
        return services.place_booking(
            member=Member.objects.get(pk=member_id),
            schedule=Schedule.objects.get(pk=schedule_id),
            channel="web",
        )

    return job


def _take_up_offer(entry_id: int, rng: random.Random, rounds: int = 40):
    """A waiting member who books the slot as soon as it is offered (if it still is)."""
    pauses = [rng.uniform(0.005, 0.03) for _ in range(rounds)]

    def job():
        for pause in pauses:
            entry = WaitlistEntry.objects.select_related("member").get(pk=entry_id)
            if entry.status == WaitlistStatus.OFFERED:
                try:
                    return services.accept_offer(member=entry.member, entry=entry)
                except errors.OfferGone as exc:
                    return exc
            if entry.status != WaitlistStatus.WAITING:
                return entry.status
            time.sleep(pause)
        return "gave up"

    return job


def _expire_offers(pause: float, rounds: int = 8):
    """The sweep, run as if the offers had all run out (it races the members taking them)."""
    later = timezone.now() + dt.timedelta(minutes=settings.MEDBOOK_WAITLIST_OFFER_MINUTES + 1)

    def job():
        total = 0
        for _ in range(rounds):
            time.sleep(pause)
            total += appointment_services.sweep_waitlist(now=later)
        return total

    return job


def _priority(entry: WaitlistEntry) -> tuple:
    return (-entry.member.level.level, entry.joined_at, entry.pk)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cancellations_racing_offers_bookings_and_expiry_keep_the_invariants(levels, seed):
    rng = random.Random(seed)
    schedule = ScheduleFactory(capacity=CAPACITY)
    holders = [book(MemberFactory(level=levels["普通"]), schedule) for _ in range(CAPACITY)]
    schedule = Schedule.objects.get(pk=schedule.pk)
    start = timezone.now()
    entries = [
        appointment_services.join_waitlist(
            member=MemberFactory(level=rng.choice(list(levels.values()))),
            schedule=schedule,
            now=start + dt.timedelta(seconds=rng.randint(0, 3)),
        )
        for _ in range(WAITING)
    ]
    outsiders = [MemberFactory(level=levels["钻石"]) for _ in range(2)]

    jobs = [_cancel(a.pk, rng.uniform(0, 0.05)) for a in holders]
    jobs += [_book_from_outside(m.pk, schedule.pk, rng.uniform(0, 0.1)) for m in outsiders]
    jobs += [_take_up_offer(e.pk, rng) for e in entries]
    jobs += [_expire_offers(rng.uniform(0.01, 0.04))]
    results = run_in_threads(jobs, timeout=120)

    unexpected = [
        r
        for r in results
        if isinstance(r, Exception) and not isinstance(r, errors.AppointmentError)
    ]
    assert not unexpected, unexpected
    assert_waitlist_exact(schedule.pk)

    # Offers never go to two members for one slot, nor twice to one member.
    offers = list(OutboxTask.objects.filter(task=EXPIRE_OFFER_TASK).values_list("args", flat=True))
    offered_ids = [args[0] for args in offers]
    assert len(offered_ids) == len(set(offered_ids))
    # They went down the list in its order: those ever offered come first in it.
    ranked = sorted(
        WaitlistEntry.objects.select_related("member__level").filter(schedule=schedule),
        key=_priority,
    )
    assert {e.pk for e in ranked[: len(offered_ids)]} == set(offered_ids)
    # Every member who took up an offer holds the slot.
    for entry in WaitlistEntry.objects.filter(status=WaitlistStatus.BOOKED):
        assert entry.appointment.status in ACTIVE_STATUSES
        assert entry.appointment.schedule_id == schedule.pk

    # Once every offer has run out, nothing stays held: the free slots are anyone's.
    for hours in range(1, WAITING + 2):
        appointment_services.sweep_waitlist(now=timezone.now() + dt.timedelta(hours=hours))
    drained = Schedule.objects.get(pk=schedule.pk)
    assert drained.offered == 0
    assert drained.remaining == drained.capacity - drained.booked
    assert_waitlist_exact(schedule.pk)


def assert_waitlist_exact(schedule_id: int) -> None:
    schedule = Schedule.objects.get(pk=schedule_id)
    open_offers = WaitlistEntry.objects.filter(
        offered_schedule_id=schedule_id, status=WaitlistStatus.OFFERED
    ).count()
    assert schedule.offered == open_offers, (schedule.offered, open_offers)
    assert schedule.booked + schedule.offered <= schedule.capacity
    assert_schedule_invariants(schedule_id)
