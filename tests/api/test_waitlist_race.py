"""The waitlist API under real concurrency on PostgreSQL: members joining a sold-out session's
waitlist at the same instant (one of them tapping twice), then every one of them accepting at
once (twice each) while two slots are offered. Each thread is an app's request through the
whole stack with its own database connection. Whatever the interleaving: one place per
member, distinct positions, exactly the offered slots booked — each by the member it was
offered to — ``offered`` counting the open offers, and invariants 1-3."""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from appointments import selectors
from appointments.choices import WaitlistStatus
from appointments.models import Appointment, Schedule, WaitlistEntry
from billing import services
from tests.api.helpers import pair_for
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.factories import book
from tests.billing.test_waitlist import assert_offers_exact
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBERS = 6


def _warm_pool(count: int) -> None:
    """``count`` connections opened at once and given back to the pool before a burst: the pool
    grows one connection at a time, and on a loaded CI machine a dozen requests asking at the
    same instant waited past its 2 s (a 503 that tested the machine, not the waitlist)."""

    def hold():
        connection.ensure_connection()
        time.sleep(0.5)

    run_in_threads([hold] * count, timeout=60)  # a thread that timed out returns its error


def _post(token: str, path: str, body: dict | None = None):
    def job():
        response = Client().post(
            path,
            json.dumps(body or {}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        payload = response.json()
        return response.status_code, payload.get("error", {}).get("code"), payload.get("id")

    return job


def test_joining_and_accepting_at_once_keeps_the_waitlist_exact(levels) -> None:
    schedule = ScheduleFactory(capacity=2, fee=Decimal("30.00"))
    holders = [book(MemberFactory(level=levels["普通"]), schedule) for _ in range(2)]
    members = [MemberFactory(level=list(levels.values())[i % 4]) for i in range(MEMBERS)]
    tokens = [pair_for(member.user).access for member in members]

    joins = [_post(token, "/api/v1/waitlist/", {"schedule": schedule.pk}) for token in tokens]
    joins.append(_post(tokens[0], "/api/v1/waitlist/", {"schedule": schedule.pk}))  # double tap
    _warm_pool(len(joins))
    joined = run_in_threads(joins, timeout=120)

    assert not [r for r in joined if isinstance(r, Exception)], joined
    assert Counter(status for status, _code, _id in joined) == {201: MEMBERS, 409: 1}
    assert [code for status, code, _id in joined if status == 409] == ["already_waiting"]
    entries = list(WaitlistEntry.objects.select_related("member__level").order_by("pk"))
    assert sorted(e.member_id for e in entries) == sorted(m.pk for m in members)
    positions = sorted(selectors.position_of(entry) for entry in entries)
    assert positions == list(range(1, MEMBERS + 1))

    for holder in holders:
        services.cancel_booking(appointment=holder, by=holder.member.user, reason="plans changed")
    offered = set(
        WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).values_list("pk", flat=True)
    )
    assert len(offered) == 2
    by_member = {e.member_id: e.pk for e in entries}
    accepts = [
        _post(token, f"/api/v1/waitlist/{by_member[member.pk]}/accept/")
        for member, token in zip(members, tokens, strict=True)
        for _tap in range(2)
    ]
    _warm_pool(len(accepts))
    accepted = run_in_threads(accepts, timeout=120)

    assert not [r for r in accepted if isinstance(r, Exception)], accepted
    assert not [r for r in accepted if r[0] >= 500], accepted
    booked = [r for r in accepted if r[0] == 201]
    assert len(booked) == 2
    assert {code for status, code, _id in accepted if status != 201} <= {
        "offer_gone",
        "already_booked",
    }
    schedule = Schedule.objects.get(pk=schedule.pk)
    assert (schedule.booked, schedule.offered) == (2, 0)
    taken = WaitlistEntry.objects.filter(status=WaitlistStatus.BOOKED)
    assert set(taken.values_list("pk", flat=True)) == offered
    for entry in taken:
        appointment = Appointment.objects.get(pk=entry.appointment_id)
        assert appointment.member_id == entry.member_id
    assert {r[2] for r in booked} == set(taken.values_list("appointment_id", flat=True))
    assert_offers_exact(schedule.pk)
    assert_schedule_invariants(schedule.pk)
