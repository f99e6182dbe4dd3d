"""The release gate (放号闸门): a booking attempt that cannot win is answered in Redis.

At a popular release thousands of members try for tens of slots. PostgreSQL decides every
booking (it is the only source of truth); the gate only keeps the attempts that cannot win away
from it, in one Redis round trip (a Lua script) that

* counts the attempt against the booking rate limits (the same counters as ``medbook.throttle``),
* answers "sold out" when the session's stock in Redis is gone,
* answers "already trying" / "already booked" from the member's mark for the patient the
  attempt is for (a double click; an account booking one session for two relatives holds
  a mark for each), and
* otherwise takes one unit of stock and marks the member as trying: the attempt goes on to the
  database, and :func:`settle` records what the database decided (booked: the mark stays; any
  refusal but "sold out": the unit goes back; "sold out": the stock is forgotten).

The stock is ``capacity - booked - offered`` (slots held for waitlist offers are not free)
read from PostgreSQL: written when a session is released
(:func:`preheat`) and again whenever it is missing (:func:`rebuild`, after a Redis flush or
restart), and forgotten (:func:`forget`) whenever a slot comes back or the capacity changes, so
the next attempt rebuilds it. Everything that can go wrong sends the attempt to the database
as before (``UNKNOWN``; ``OFFLINE`` without Redis): a wrong stock can only let too many
through (the database refuses the extra ones), never refuse an attempt that could win, except
for a stock of zero, which is only set from the database's own count and is forgotten as soon
as a slot comes back. A member's "trying" mark older than :data:`TRYING_SECONDS` (a worker died
mid-booking) no longer counts: the attempt goes to the database and the stock is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches

from medbook import throttle

__all__ = [
    "TRYING_SECONDS",
    "RefusalCount",
    "Verdict",
    "enter",
    "forget",
    "mark_of",
    "preheat",
    "rebuild",
    "refusal_counts",
    "settle",
]

logger = logging.getLogger(__name__)

TRYING_SECONDS = 30  # a booking that has not settled by then died with its worker
REFUSED_SESSIONS = "gate:refused"  # the set of sessions whose refusals are being counted
STOCK_SECONDS = 36 * 3600  # a session's stock outlives its day, never for long


class Verdict(enum.StrEnum):
    GO = "pass"  # on to the database: one unit of stock is held for this attempt
    SOLD_OUT = "sold_out"
    TRYING = "trying"  # this member's other attempt is on its way
    BOOKED = "booked"  # this member booked this session already
    THROTTLED = "throttled"
    UNKNOWN = "unknown"  # no stock known (the limits were counted): the database decides
    OFFLINE = "offline"  # no Redis (or it is down): nothing was counted, the database decides


# Counts one refusal "sold out" of a session (KEYS[a]: its count, KEYS[b]: the set of sessions
# with a count; ARGV[now]: this moment, ARGV[life]: the count's lifetime, ARGV[id]: the
# session): a hash {since: the first refusal counted, n: refusals}. A new count (none yet, or
# Redis lost the last one) starts a new period and registers the session for the copy job.
_COUNT_REFUSAL = """
if redis.call('HSETNX', KEYS[%(a)d], 'since', ARGV[%(now)d]) == 1 then
  redis.call('EXPIRE', KEYS[%(a)d], tonumber(ARGV[%(life)d]))
  redis.call('SADD', KEYS[%(b)d], ARGV[%(id)d])
end
redis.call('HINCRBY', KEYS[%(a)d], 'n', 1)
"""

# KEYS: stock, marks, recheck, refusals, the refused sessions' set, then one counter per
# throttle rate. ARGV: member, now, trying seconds, marks' lifetime, session, then limit and
# window of each counter.
_ENTER = (
    """
local throttled = false
for k = 6, #KEYS do
  local j = k - 5
  local n = redis.call('INCR', KEYS[k])
  if n == 1 then redis.call('EXPIRE', KEYS[k], tonumber(ARGV[5 + 2 * j])) end
  if n > tonumber(ARGV[4 + 2 * j]) then throttled = true end
end
if throttled then return 'throttled' end
local mark = redis.call('HGET', KEYS[2], ARGV[1])
if mark then
  if string.sub(mark, 1, 7) == 'booked:' then return mark end
  if tonumber(ARGV[2]) - tonumber(string.sub(mark, 8)) < tonumber(ARGV[3]) then
    return 'trying'
  end
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
  return 'unknown'
end
local stock = redis.call('GET', KEYS[1])
if not stock then return 'unknown' end
if tonumber(stock) <= 0 then
  local recheck = redis.call('GET', KEYS[3])
  if recheck and tonumber(ARGV[2]) >= tonumber(recheck) then
    -- an unpaid hold has run out since: its slot may be free, the database will say
    redis.call('DEL', KEYS[1], KEYS[3])
    return 'unknown'
  end
"""
    + _COUNT_REFUSAL % {"a": 4, "b": 5, "now": 2, "life": 4, "id": 5}
    + """
  return 'sold_out'
end
redis.call('DECR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], 'trying:' .. ARGV[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
return 'pass'
"""
)

# KEYS: refusals, the refused sessions' set   ARGV: now, lifetime, session. The database said
# "sold out" to an attempt the gate let through: a refusal too.
_REFUSED = _COUNT_REFUSAL % {"a": 1, "b": 2, "now": 1, "life": 2, "id": 3} + "return 1"

# KEYS: the refused sessions' set   ARGV: the counts' key prefix and suffix. Reads every count
# and drops the sessions whose count has gone (expired, flushed) from the set, at once, so a
# count started meanwhile is never dropped unread. Returns [session, since, n, ...].
_REFUSAL_COUNTS = """
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local count = redis.call('HMGET', ARGV[1] .. id .. ARGV[2], 'since', 'n')
  if count[1] then
    table.insert(found, id)
    table.insert(found, count[1])
    table.insert(found, count[2] or '0')
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return found
"""

# KEYS: recheck   ARGV: a moment. The recheck moment is the earliest one given.
_RECHECK_BY = """
local current = redis.call('GET', KEYS[1])
if not current or tonumber(ARGV[1]) < tonumber(current) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
end
return 1
"""

# KEYS: stock, marks, recheck   ARGV: remaining, its lifetime, recheck moment or '', its lifetime.
_PREHEAT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]), 'NX') then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[4])) end
return 1
"""

# KEYS: stock, marks   ARGV: member. The unit goes back only to a stock that is still known.
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


_ENTER_SHA = hashlib.sha1(_ENTER.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)


def _run(client: Any, script: str, sha: str, keys: list, args: list) -> Any:
    """Run a Lua script by its SHA-1 (EVALSHA: the body is not sent, nor hashed by Redis, at
    every attempt); the first time on a server (or after a restart) it is sent whole."""
    from redis.exceptions import NoScriptError

    try:
        return client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(script, len(keys), *keys, *args)


@dataclass(frozen=True)
class _Gate:
    """A session's keys in Redis (named like the cache's) and the client to reach them: its
    stock, its members' marks, when a stock of zero must be checked again (the earliest
    unpaid hold runs out: that slot may be free), its count of refusals "sold out" and the set
    of the sessions that have such a count (read by :func:`refusal_counts`)."""

    client: Any
    cache: Any
    stock: str
    marks: str
    recheck: str
    refusals: str
    refused_sessions: str


def _gate(schedule_id: int) -> _Gate | None:
    """The session's gate, or None when there is no Redis or the cache's breaker says it is
    down (the gate steps aside)."""
    if "redis" not in settings.CACHES:
        return None
    breaker = getattr(caches["default"], "breaker", None)
    if breaker is not None and not breaker.allows():
        return None
    cache = caches["redis"]
    return _Gate(
        client=cache.client.get_client(write=True),
        cache=cache,
        stock=cache.make_key(f"gate:{schedule_id}:stock"),
        marks=cache.make_key(f"gate:{schedule_id}:marks"),
        recheck=cache.make_key(f"gate:{schedule_id}:recheck"),
        refusals=cache.make_key(f"gate:{schedule_id}:refused"),
        refused_sessions=cache.make_key(REFUSED_SESSIONS),
    )


@contextmanager
def _quietly(what: str, schedule_id: int) -> Iterator[None]:
    """Redis failing mid-way is logged and passed over (the database decides anyway), and the
    cache's breaker is told, so neither the gate nor the cache waits on Redis again soon."""
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError) as exc:
        logger.warning("The release gate could not %s session %s (%s)", what, schedule_id, exc)
        breaker = getattr(caches["default"], "breaker", None)
        if breaker is not None:
            breaker.failed(exc)  # the whole process leaves Redis alone for the breaker's pause


def _mark(user_id: int, patient: str) -> str:
    """The field of a member's mark on a session: the login and the patient the attempt
    named ("" when it named none: the account holder)."""
    return f"{user_id}:{patient}"


def mark_of(*, user_id: int, patient_id: int | None) -> tuple[str, ...]:
    """The marks an appointment of ``patient_id`` may have been made under (the attempt named
    the patient, or named none), for :func:`forget` when its slot comes back."""
    return (_mark(user_id, ""), _mark(user_id, str(patient_id or "")))


def enter(
    *, schedule_id: int, user_id: int, address: str, patient: str = ""
) -> tuple[Verdict, int | None]:
    """One booking attempt of ``user_id`` (from ``address``) for ``patient`` (the id the form
    sent, "" for the account holder) on a session, decided in one Redis round trip. Returns
    the verdict and, for ``BOOKED``, the appointment's id."""
    gate = _gate(schedule_id)
    if gate is None:
        return Verdict.OFFLINE, None
    keys = [gate.stock, gate.marks, gate.recheck, gate.refusals, gate.refused_sessions]
    limits: list = []
    for scope, who, rate in (
        ("book-member", str(user_id), settings.MEDBOOK_BOOKING_RATE_MEMBER),
        ("book-ip", address or "-", settings.MEDBOOK_BOOKING_RATE_IP),
    ):
        for part in rate.split(","):
            limit, window = throttle.parse_rate(part.strip())
            keys.append(gate.cache.make_key(throttle.key_for(scope, who, window)))
            limits += [limit, window + 1]
    args = [
        _mark(user_id, patient),
        time.time(),
        TRYING_SECONDS,
        STOCK_SECONDS,
        schedule_id,
        *limits,
    ]
    with _quietly("decide an attempt on", schedule_id):
        answer = _run(gate.client, _ENTER, _ENTER_SHA, keys, args)
        answer = answer.decode() if isinstance(answer, bytes) else str(answer)
        if answer.startswith("booked:"):
            return Verdict.BOOKED, int(answer.split(":", 1)[1])
        return Verdict(answer), None
    return Verdict.OFFLINE, None


def settle(
    *,
    schedule_id: int,
    user_id: int,
    patient: str = "",
    booked_id: int | None = None,
    hold_until: dt.datetime | None = None,
    sold_out: bool = False,
) -> None:
    """What the database decided for an attempt the gate let through: ``booked_id`` (the
    member's mark says so from now on; ``hold_until``: it is an unpaid hold that runs out
    then), ``sold_out`` (the stock is forgotten: the next attempt rebuilds it from the
    database), or neither (a refusal for this member alone: the unit of stock goes back)."""
    gate = _gate(schedule_id)
    if gate is None:
        return
    mark = _mark(user_id, patient)
    with _quietly("record an outcome on", schedule_id):
        if booked_id is not None:
            with gate.client.pipeline(transaction=False) as pipe:  # one round trip
                pipe.hset(gate.marks, mark, f"booked:{booked_id}")
                if hold_until is not None:
                    pipe.eval(_RECHECK_BY, 1, gate.recheck, hold_until.timestamp(), STOCK_SECONDS)
                pipe.execute()
        elif sold_out:
            with gate.client.pipeline(transaction=True) as pipe:
                pipe.hdel(gate.marks, mark)
                pipe.delete(gate.stock)
                pipe.eval(
                    _REFUSED,
                    2,
                    gate.refusals,
                    gate.refused_sessions,
                    time.time(),
                    STOCK_SECONDS,
                    schedule_id,
                )
                pipe.execute()
        else:
            gate.client.eval(_GIVE_BACK, 2, gate.stock, gate.marks, mark)


def _stock_seconds(ends_at: dt.datetime, now: dt.datetime) -> int:
    return max(60, min(STOCK_SECONDS, int((ends_at - now).total_seconds())))


def preheat(
    *,
    schedule_id: int,
    remaining: int,
    ends_at: dt.datetime,
    now: dt.datetime,
    recheck_at: dt.datetime | None = None,
) -> None:
    """Write a session's stock (its free slots, as PostgreSQL counts them, and when its
    earliest unpaid hold runs out) and forget the marks of an earlier release of it — unless
    the stock is there already: attempts that came between the release's commit and this
    rebuilt it from PostgreSQL and have been taking from it since, so it is the live one."""
    gate = _gate(schedule_id)
    if gate is None:
        return
    with _quietly("preheat", schedule_id):
        gate.client.eval(
            _PREHEAT,
            3,
            gate.stock,
            gate.marks,
            gate.recheck,
            max(remaining, 0),
            _stock_seconds(ends_at, now),
            recheck_at.timestamp() if recheck_at is not None else "",
            STOCK_SECONDS,
        )


def rebuild(
    *,
    schedule_id: int,
    remaining: int,
    ends_at: dt.datetime,
    now: dt.datetime,
    recheck_at: dt.datetime | None = None,
) -> None:
    """Write the stock when it is missing (a flush, a restart, a forget), keeping the marks:
    ``remaining`` and ``recheck_at`` were read from PostgreSQL just now. An existing stock is
    left alone."""
    gate = _gate(schedule_id)
    if gate is None:
        return
    with _quietly("rebuild", schedule_id):
        ttl = _stock_seconds(ends_at, now)
        if gate.client.set(gate.stock, max(remaining, 0), ex=ttl, nx=True) and recheck_at:
            gate.client.eval(_RECHECK_BY, 1, gate.recheck, recheck_at.timestamp(), STOCK_SECONDS)


def forget(*, schedule_id: int, marks: tuple[str, ...] = ()) -> None:
    """A slot came back or the capacity changed: the next attempt rebuilds the stock. When the
    slot came back from an appointment (cancelled, its hold ran out), its ``marks``
    (:func:`mark_of`) go too, so that the member may book the session for that patient again."""
    gate = _gate(schedule_id)
    if gate is None:
        return
    with _quietly("forget", schedule_id), gate.client.pipeline(transaction=True) as pipe:
        pipe.delete(gate.stock, gate.recheck)
        if marks:
            pipe.hdel(gate.marks, *marks)
        pipe.execute()


@dataclass(frozen=True)
class RefusalCount:
    """A session's refusals "sold out" counted in Redis since ``counted_from``."""

    schedule_id: int
    counted_from: dt.datetime
    refused: int


def refusal_counts() -> list[RefusalCount]:
    """Every session's count of refusals as it stands (one round trip); sessions whose count
    Redis no longer has are forgotten. Empty without Redis."""
    gate = _gate(0)
    if gate is None:
        return []
    prefix, suffix = gate.refusals.split("gate:0:refused")
    found: list = []
    with _quietly("read the refusals of", 0):
        found = gate.client.eval(
            _REFUSAL_COUNTS, 1, gate.refused_sessions, f"{prefix}gate:", f":refused{suffix}"
        )
    values = [item.decode() if isinstance(item, bytes) else str(item) for item in found]
    return [
        RefusalCount(
            schedule_id=int(values[i]),
            counted_from=dt.datetime.fromtimestamp(float(values[i + 1]), tz=dt.UTC),
            refused=int(values[i + 2]),
        )
        for i in range(0, len(values), 3)
    ]
