"""Schedule and Slot: how a MedBook session (号源) is told in FHIR.

A session — a doctor's morning or afternoon with capacity N, minutes per visit M — is one
FHIR **Schedule** (the container: its actor the doctor, its planning horizon the session's
hours) and N **Slots**, one per queue number (就诊序号): Slot ``<session>-<n>`` starts at the
number's estimated time (start + (n-1)·M) and lasts M minutes. MedBook books a session, not a
time: a booking takes the lowest free number, so a slot is ``busy`` while an active
appointment (awaiting payment, confirmed, checked in, completed) holds its number, ``free``
otherwise in a released session that has not ended, and ``busy-unavailable`` in a session not
released yet (staff only), cancelled (停诊), ended or past."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.choices import ScheduleStatus
from appointments.models import Schedule
from appointments.selectors.readable import Reader, held_numbers, readable_schedules

from ..search import FhirError, Query
from .base import Context, Param, ResourceType, instant, int_id, reference

SLOT_STATUSES = {"free", "busy", "busy-unavailable"}
# A Slot search without a session reads at most this many days of sessions.
SLOT_SEARCH_DAYS = 31


class ScheduleType(ResourceType):
    name = "Schedule"
    patient_data = False
    params = {
        "_id": Param("token", "The session's id."),
        "actor": Param("reference", "The doctor's sessions: Practitioner/<id>."),
        "date": Param("date", "Sessions on these dates (the planning horizon's start)."),
    }

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> Sequence[Schedule]:
        first, last = _days(query, "date")
        return readable_schedules(
            reader=reader,
            ids=ids if ids is not None else query.ids("_id"),
            doctor_ids=query.ids("actor", "Practitioner"),
            first_day=first,
            last_day=last,
        )

    def render(self, schedule: Schedule, context: Context) -> dict[str, Any]:
        doctor = schedule.doctor
        details = [str(schedule.get_session_display()), str(schedule.get_status_display())]
        if schedule.room:
            details.append(schedule.room)
        return {
            "resourceType": "Schedule",
            "id": str(schedule.pk),
            "active": schedule.status in (ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED),
            "serviceType": [{"text": doctor.department.name}],
            "actor": [reference("Practitioner", doctor.pk, doctor.name)],
            "planningHorizon": {
                "start": instant(schedule.starts_at),
                "end": instant(schedule.ends_at),
            },
            "comment": " · ".join(details),
        }


def _days(query: Query, name: str) -> tuple[dt.date | None, dt.date | None]:
    """The clinic days a date parameter's range touches (first and last, either open)."""
    lower, upper = query.period(name)
    first = timezone.localtime(lower).date() if lower else None
    last = timezone.localtime(upper - dt.timedelta(microseconds=1)).date() if upper else None
    return first, last


@dataclass(frozen=True)
class SlotRow:
    """One queue number of a session, as a Slot."""

    schedule: Schedule
    number: int
    status: str

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(
            self.schedule.date,
            self.schedule.estimated_time(self.number),
            tzinfo=timezone.get_current_timezone(),
        )

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.schedule.minutes_per_visit)


def slot_id(schedule_id: int, number: int) -> str:
    return f"{schedule_id}-{number}"


def _slot_status(schedule: Schedule, held: bool, now: dt.datetime) -> str:
    if held:
        return "busy"
    if schedule.status == ScheduleStatus.PUBLISHED and now < schedule.ends_at:
        return "free"
    return "busy-unavailable"


def slots_of(schedules: Sequence[Schedule], now: dt.datetime) -> list[SlotRow]:
    """Every number of ``schedules`` as a slot, with its status (one query for the holders)."""
    held = held_numbers(schedule_ids=[s.pk for s in schedules])
    return [
        SlotRow(s, n, _slot_status(s, n in held.get(s.pk, ()), now))
        for s in schedules
        for n in range(1, s.capacity + 1)
    ]


class SlotType(ResourceType):
    name = "Slot"
    patient_data = False
    params = {
        "schedule": Param("reference", "The slots of a session: Schedule/<id>."),
        "start": Param(
            "date",
            f"Slots starting then. Without a schedule, give a range of at most "
            f"{SLOT_SEARCH_DAYS} days (start=ge…&start=lt…).",
        ),
        "status": Param("token", "free, busy or busy-unavailable."),
    }

    def read(self, reader: Reader, id: str) -> SlotRow | None:
        session, _sep, number = id.partition("-")
        schedule = readable_schedules(reader=reader, ids=[int_id(session)]).first()
        if schedule is None or not 1 <= int_id(number) <= schedule.capacity:
            return None
        return slots_of([schedule], timezone.now())[int_id(number) - 1]

    def search(
        self, reader: Reader, query: Query, *, ids: list[int] | None = None
    ) -> list[SlotRow]:
        sessions = query.ids("schedule", "Schedule")
        lower, upper = query.period("start")
        first, last = _days(query, "start")
        if sessions is None and not (first and last and (last - first).days < SLOT_SEARCH_DAYS):
            raise FhirError(
                _(
                    "Search slots of a schedule (schedule=Schedule/<id>), or give start as a "
                    "range of at most %(days)d days (start=ge…&start=lt…)."
                )
                % {"days": SLOT_SEARCH_DAYS},
                code="too-costly",
            )
        statuses = query.tokens("status", SLOT_STATUSES)
        schedules = readable_schedules(reader=reader, ids=sessions, first_day=first, last_day=last)
        return [
            row
            for row in slots_of(list(schedules), timezone.now())
            if (lower is None or row.start >= lower)
            and (upper is None or row.start < upper)
            and (statuses is None or row.status in statuses)
        ]

    def render(self, row: SlotRow, context: Context) -> dict[str, Any]:
        return {
            "resourceType": "Slot",
            "id": slot_id(row.schedule.pk, row.number),
            "schedule": reference("Schedule", row.schedule.pk),
            "status": row.status,
            "start": instant(row.start),
            "end": instant(row.end),
            "comment": _("Queue number %(n)d") % {"n": row.number},
        }
