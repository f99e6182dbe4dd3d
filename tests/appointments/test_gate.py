"""The release gate decides, in Redis, the attempts that cannot win; PostgreSQL decides the rest.
Real Redis (the test settings' REDIS_URL), real threads."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.cache import caches
from django.utils import timezone

from appointments import gate
from appointments.gate import Verdict
from medbook import throttle

pytestmark = pytest.mark.django_db

SESSION = 4242


@pytest.fixture(autouse=True)
def clean_gate(settings):
    settings.MEDBOOK_BOOKING_RATE_MEMBER = "1000/60"
    settings.MEDBOOK_BOOKING_RATE_IP = "100000/60"
    caches["redis"].clear()
    yield
    caches["redis"].clear()


def preheat(remaining: int, recheck_at=None) -> None:
    now = timezone.now()
    gate.preheat(
        schedule_id=SESSION,
        remaining=remaining,
        ends_at=now + dt.timedelta(hours=3),
        now=now,
        recheck_at=recheck_at,
    )


def enter(user: int, address: str = "10.0.0.1") -> Verdict:
    return gate.enter(schedule_id=SESSION, user_id=user, address=address)[0]


def test_a_preheated_stock_lets_exactly_that_many_through() -> None:
    preheat(3)
    verdicts = [enter(user) for user in range(1, 8)]
    assert verdicts == [Verdict.GO] * 3 + [Verdict.SOLD_OUT] * 4


def test_many_threads_at_once_take_each_unit_once() -> None:
    preheat(5)
    verdicts: list[Verdict] = []
    start = threading.Barrier(40)

    def attempt(user: int) -> None:
        start.wait()
        verdicts.append(enter(user))

    threads = [threading.Thread(target=attempt, args=(user,)) for user in range(1, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verdicts.count(Verdict.GO) == 5
    assert verdicts.count(Verdict.SOLD_OUT) == 35


def test_a_double_click_never_reaches_the_database_twice() -> None:
    preheat(10)
    assert enter(7) == Verdict.GO
    assert enter(7) == Verdict.TRYING
    gate.settle(schedule_id=SESSION, user_id=7, booked_id=99)
    assert gate.enter(schedule_id=SESSION, user_id=7, address="10.0.0.1") == (Verdict.BOOKED, 99)


def test_a_refusal_for_one_member_gives_the_unit_back() -> None:
    preheat(1)
    assert enter(1) == Verdict.GO
    assert enter(2) == Verdict.SOLD_OUT
    gate.settle(schedule_id=SESSION, user_id=1)  # e.g. the member's booking is paused
    assert enter(2) == Verdict.GO


def test_the_databases_sold_out_makes_the_next_attempt_rebuild_from_it() -> None:
    preheat(2)
    assert enter(1) == Verdict.GO
    gate.settle(schedule_id=SESSION, user_id=1, sold_out=True)
    assert enter(2) == Verdict.UNKNOWN
    now = timezone.now()
    gate.rebuild(schedule_id=SESSION, remaining=0, ends_at=now + dt.timedelta(hours=1), now=now)
    assert enter(2) == Verdict.SOLD_OUT


def test_a_flushed_or_forgotten_stock_is_unknown_until_rebuilt_and_rebuild_never_overwrites() -> (
    None
):
    preheat(2)
    caches["redis"].clear()  # Redis flushed in the middle of a release
    assert enter(1) == Verdict.UNKNOWN
    now = timezone.now()
    later = now + dt.timedelta(hours=1)
    gate.rebuild(schedule_id=SESSION, remaining=1, ends_at=later, now=now)
    gate.rebuild(schedule_id=SESSION, remaining=30, ends_at=later, now=now)  # too late: kept
    assert [enter(2), enter(3)] == [Verdict.GO, Verdict.SOLD_OUT]
    gate.forget(schedule_id=SESSION)  # a cancellation returned a slot
    assert enter(4) == Verdict.UNKNOWN


def test_a_trying_mark_of_a_dead_worker_stops_counting(monkeypatch) -> None:
    preheat(1)
    assert enter(1) == Verdict.GO  # ... and the worker died before settling
    real = gate.time.time
    monkeypatch.setattr(gate.time, "time", lambda: real() + gate.TRYING_SECONDS + 1)
    assert enter(1) == Verdict.UNKNOWN  # the database decides, the stock is rebuilt
    assert enter(2) == Verdict.UNKNOWN


def test_a_stock_of_zero_is_checked_again_when_an_unpaid_hold_runs_out() -> None:
    preheat(1)
    assert enter(1) == Verdict.GO
    hold_ends = timezone.now() + dt.timedelta(minutes=15)
    gate.settle(schedule_id=SESSION, user_id=1, booked_id=5, hold_until=hold_ends)
    assert enter(2) == Verdict.SOLD_OUT
    # Rebuilt from the database, whose earliest unpaid hold has run out by now:
    gate.forget(schedule_id=SESSION)
    now = timezone.now()
    gate.rebuild(
        schedule_id=SESSION,
        remaining=0,
        ends_at=now + dt.timedelta(hours=3),
        now=now,
        recheck_at=now - dt.timedelta(seconds=1),
    )
    assert enter(3) == Verdict.UNKNOWN


def test_a_preheat_after_attempts_rebuilt_the_stock_leaves_it_alone() -> None:
    """Members who came between the release's commit and its preheat rebuilt the stock from
    the database and took from it: the preheat's count is older, the live stock stays."""
    now = timezone.now()
    gate.rebuild(schedule_id=SESSION, remaining=2, ends_at=now + dt.timedelta(hours=3), now=now)
    assert enter(1) == Verdict.GO
    gate.settle(schedule_id=SESSION, user_id=1, booked_id=7)

    preheat(2)  # read before that booking

    assert [enter(1), enter(2), enter(3)] == [Verdict.BOOKED, Verdict.GO, Verdict.SOLD_OUT]


def test_attempts_count_on_the_webs_own_rate_counters(settings) -> None:
    settings.MEDBOOK_BOOKING_RATE_MEMBER = "3/60"
    preheat(100)
    verdicts = [enter(1, address=f"10.0.0.{n}") for n in range(5)]
    assert verdicts[3:] == [Verdict.THROTTLED] * 2
    assert throttle.count(scope="book-member", who="1", window=60) == 5


def test_too_many_attempts_from_one_address_are_throttled(settings) -> None:
    settings.MEDBOOK_BOOKING_RATE_IP = "2/60"
    preheat(100)
    assert [enter(user, address="10.9.9.9") for user in (1, 2, 3)][-1] == Verdict.THROTTLED


def test_without_redis_the_gate_steps_aside(monkeypatch) -> None:
    preheat(0)
    breaker = caches["default"].breaker
    monkeypatch.setattr(breaker, "allows", lambda: False)  # Redis is down, says the breaker
    assert enter(1) == Verdict.OFFLINE
    gate.settle(schedule_id=SESSION, user_id=1)  # and nothing breaks


def test_a_session_saved_as_a_whole_is_rebuilt_from_the_database(
    django_capture_on_commit_callbacks,
) -> None:
    """Django admin raising the capacity of a full session: the gate's stock of zero goes."""
    from tests.appointments.factories import ScheduleFactory

    schedule = ScheduleFactory(capacity=1)
    now = timezone.now()
    gate.preheat(schedule_id=schedule.pk, remaining=0, ends_at=schedule.ends_at, now=now)
    assert gate.enter(schedule_id=schedule.pk, user_id=1, address="x")[0] == Verdict.SOLD_OUT
    schedule.capacity = 5
    with django_capture_on_commit_callbacks(execute=True):
        schedule.save()
    assert gate.enter(schedule_id=schedule.pk, user_id=2, address="x")[0] == Verdict.UNKNOWN


def test_a_redis_failure_in_the_gate_opens_the_caches_breaker(monkeypatch) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    breaker = caches["default"].breaker
    monkeypatch.setattr(breaker, "open_until", 0.0)

    class Unreachable:
        def eval(self, *args):
            raise RedisConnectionError("connection refused")

        evalsha = eval

    monkeypatch.setattr(
        gate,
        "_gate",
        lambda schedule_id: gate._Gate(Unreachable(), caches["redis"], "s", "m", "r", "n", "x"),
    )
    assert enter(1) == Verdict.OFFLINE
    assert not breaker.allows()
    breaker.retry_now()
    breaker.succeeded()


def test_a_mark_per_patient_so_an_account_books_one_session_for_two_relatives() -> None:
    """The holder's booking of a session does not answer the child's attempt "booked"."""
    preheat(5)
    assert gate.enter(schedule_id=SESSION, user_id=7, address="x", patient="11")[0] == Verdict.GO
    gate.settle(schedule_id=SESSION, user_id=7, patient="11", booked_id=501)

    assert gate.enter(schedule_id=SESSION, user_id=7, address="x", patient="11") == (
        Verdict.BOOKED,
        501,
    )
    assert gate.enter(schedule_id=SESSION, user_id=7, address="x", patient="12")[0] == Verdict.GO

    # The appointment of patient 11 is cancelled: its marks go, the account may try again.
    gate.forget(schedule_id=SESSION, marks=gate.mark_of(user_id=7, patient_id=11))
    preheat(5)
    assert gate.enter(schedule_id=SESSION, user_id=7, address="x", patient="11")[0] == Verdict.GO
