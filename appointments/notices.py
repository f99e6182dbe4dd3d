"""The in-app messages (站内信) the appointments app sends to members, worded for patients.

Messages are templates with parameters (members.message_templates), rendered in the reader's
language: names are stored in both languages, days as dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from members.message_templates import day, localized, snippet
from members.models import Message, MessageKind
from members.services import send_message

from .models import Appointment, ReleaseReminder, Schedule, WaitlistEntry

__all__ = [
    "describe_visit",
    "doctor_name",
    "release_opened",
    "reminder",
    "waitlist_offer_expired",
    "waitlist_offered",
]


def doctor_name(schedule: Schedule) -> dict[str, str]:
    return localized(lambda: schedule.doctor.local_name)


def _department(schedule: Schedule) -> dict[str, str]:
    return localized(lambda: schedule.doctor.department.local_name)


def describe_visit(appointment: Appointment) -> dict[str, Any]:
    """The visit as a message names it: doctor, department, day, time and number, and who the
    patient is when it is not the account holder (the holder reads every message of the
    account: "for 张小明 (Child)")."""
    schedule = appointment.schedule
    visit = snippet(
        "visit",
        doctor=doctor_name(schedule),
        department=_department(schedule),
        day=day(schedule.date),
        time=appointment.estimated_time.strftime("%H:%M"),
        number=appointment.queue_number,
    )
    if not appointment.for_relative:
        return visit
    relative = snippet(
        "visit.for",
        patient=appointment.patient_name,
        relation=localized(lambda: appointment.patient_relation_label),
    )
    return {"concat": [visit, relative]}


def describe_session(schedule: Schedule) -> dict[str, Any]:
    """A session as a message names it: doctor, department, day and hours."""
    return snippet(
        "session",
        doctor=doctor_name(schedule),
        department=_department(schedule),
        day=day(schedule.date),
        session=localized(schedule.get_session_display),
        start=schedule.start_time.strftime("%H:%M"),
        end=schedule.end_time.strftime("%H:%M"),
    )


def reminder(appointment: Appointment) -> None:
    schedule = appointment.schedule
    send_message(
        member=appointment.member,
        kind=MessageKind.REMINDER,
        template="appointment.reminder",
        params={
            "session": describe_visit(appointment),
            "room": localized(
                lambda: schedule.local_room or schedule.doctor.department.local_location
            ),
        },
        reference=f"reminder:{appointment.pk}",
    )


def release_opened(
    *, reminder: ReleaseReminder, opens_at: dt.datetime, now: dt.datetime
) -> Message:
    """The release reminder (放号提醒): the session the member asked about is open to them."""
    schedule = reminder.schedule
    session = describe_session(schedule)
    return send_message(
        member=reminder.member,
        kind=MessageKind.REMINDER,
        template="release.open" if schedule.remaining else "release.full",
        params={
            "doctor": doctor_name(schedule),
            "day": day(schedule.date),
            "session": session,
            "time": timezone.localtime(opens_at).strftime("%H:%M"),
            "left": schedule.remaining,
            "capacity": schedule.capacity,
        },
        reference=f"release:{schedule.pk}",
        now=now,
    )


def waitlist_offered(entry: WaitlistEntry) -> Message:
    """候补: a slot opened up and is held for the member until the offer runs out."""
    return send_message(
        member=entry.member,
        kind=MessageKind.WAITLIST,
        template="waitlist.offered",
        params={
            "session": describe_session(entry.offered_schedule),
            "time": timezone.localtime(entry.offer_expires_at).strftime("%H:%M"),
        },
        reference=f"waitlist:{entry.pk}",
        now=entry.offered_at,
    )


def waitlist_offer_expired(entry: WaitlistEntry, now: dt.datetime) -> Message:
    return send_message(
        member=entry.member,
        kind=MessageKind.WAITLIST,
        template="waitlist.passed",
        params={"session": describe_session(entry.offered_schedule)},
        reference=f"waitlist:{entry.pk}",
        now=now,
    )
