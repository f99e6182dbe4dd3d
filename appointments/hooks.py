"""The appointments app's webhook events (medbook.webhooks): the payloads, built only when
someone subscribes. Ids, statuses, times and amounts; the member's phone only masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from medbook import webhooks

from .models import Appointment, Schedule


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _canceller(appointment: Appointment) -> str | None:
    """Who cancelled: the member, staff, or MedBook itself (an unpaid hold, a suspension)."""
    if appointment.cancelled_at is None:
        return None
    if appointment.cancelled_by_id is None:
        return "system"
    return "member" if appointment.cancelled_by_id == appointment.member.user_id else "staff"


def schedule_payload(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "date": schedule.date.isoformat(),
        "starts_at": schedule.starts_at.isoformat(),
        "ends_at": schedule.ends_at.isoformat(),
        "status": schedule.status,
        "doctor_id": schedule.doctor_id,
        "department": schedule.doctor.department.code,
        "capacity": schedule.capacity,
        "fee": str(schedule.fee),
    }


def appointment_payload(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment": {
            "id": appointment.pk,
            "status": appointment.status,
            "queue_number": appointment.queue_number,
            "estimated_time": appointment.estimated_time.isoformat(),
            "channel": appointment.channel,
            "fee": str(appointment.fee),
            "created_at": _time(appointment.created_at),
            "confirmed_at": _time(appointment.confirmed_at),
            "checked_in_at": _time(appointment.checked_in_at),
            "completed_at": _time(appointment.completed_at),
            "cancelled_at": _time(appointment.cancelled_at),
            "no_show_at": _time(appointment.no_show_at),
            "cancelled_by": _canceller(appointment),
        },
        "schedule": schedule_payload(appointment.schedule),
        "member": {"id": appointment.member_id, "phone": appointment.member.masked_phone},
    }


def appointment_event(kind: str, appointment: Appointment, *, now: dt.datetime | None) -> None:
    """Emit ``appointment.<kind>`` (in the caller's transaction)."""
    webhooks.emit(f"appointment.{kind}", lambda: appointment_payload(appointment), now=now)


def appointment_rescheduled(old: Appointment, new: Appointment, *, now: dt.datetime | None) -> None:
    """Emit ``appointment.rescheduled``: the new appointment, with the one it replaced (which
    is also sent as ``appointment.cancelled``, and the new one as ``appointment.booked``)."""

    def payload() -> dict[str, Any]:
        return appointment_payload(new) | {
            "rescheduled_from": {
                "id": old.pk,
                "queue_number": old.queue_number,
                "schedule": schedule_payload(old.schedule),
            }
        }

    webhooks.emit("appointment.rescheduled", payload, now=now)
