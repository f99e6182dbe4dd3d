"""Time slots of a session (分时段), derived and never stored.

A session with ``slot_minutes`` is cut from its start to its end into slots of that length
(the last one may be shorter). Its capacity is spread over them as contiguous ranges of queue
numbers, in order: slot 0 holds numbers 1..a, slot 1 a+1..b, and so on. Choosing a slot is
choosing a free number inside its range, so the queue-number constraint and the session's row
lock that guard numbers guard the slots too: a slot can never be overbooked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class Session(Protocol):
    """What slots are cut from (a Schedule; this module imports no model)."""

    start_time: dt.time
    end_time: dt.time
    capacity: int
    slot_minutes: int


def slot_ranges(*, capacity: int, count: int) -> list[range]:
    """``capacity`` queue numbers (1..capacity) spread over ``count`` slots as contiguous ranges
    in order, the earlier slots taking one more when it does not divide evenly. With more slots
    than numbers, the later slots get empty ranges."""
    if count < 1 or capacity < 0:
        return []
    base, extra = divmod(capacity, count)
    ranges, first = [], 1
    for index in range(count):
        size = base + (1 if index < extra else 0)
        ranges.append(range(first, first + size))
        first += size
    return ranges


@dataclass(frozen=True)
class Slot:
    """One slot: its index (what a member chooses), its times and its queue numbers."""

    index: int
    start: dt.time
    end: dt.time
    numbers: range

    @property
    def size(self) -> int:
        return len(self.numbers)


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def _time(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def slots_of(schedule: Session) -> list[Slot]:
    """The slots of ``schedule`` that hold at least one number (none when it is not split)."""
    length = schedule.slot_minutes or 0
    if length < 1 or not schedule.start_time or not schedule.end_time:
        return []
    start, end = _minutes(schedule.start_time), _minutes(schedule.end_time)
    if end <= start:
        return []
    count = -(-(end - start) // length)
    ranges = slot_ranges(capacity=schedule.capacity, count=count)
    return [
        Slot(
            index=index,
            start=_time(start + index * length),
            end=_time(min(start + (index + 1) * length, end)),
            numbers=numbers,
        )
        for index, numbers in enumerate(ranges)
        if numbers
    ]


def slot_of_number(schedule: Session, number: int) -> Slot | None:
    """The slot ``number`` lies in (None: the session is not split, or a number beyond its
    slots such as a walk-in's extra one)."""
    return next((slot for slot in slots_of(schedule) if number in slot.numbers), None)


def time_in_slot(slot: Slot, number: int) -> dt.time:
    """When ``number`` is expected: the slot's numbers spread evenly from its start, so every
    one of them falls inside the slot."""
    start, end = _minutes(slot.start), _minutes(slot.end)
    position = slot.numbers.index(number)
    return _time(start + position * (end - start) // slot.size)
