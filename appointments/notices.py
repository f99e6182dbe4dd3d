"""The in-app messages (站内信) the appointments app sends to members, worded for patients."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _

from members.models import MessageKind
from members.services import send_message

from .models import Appointment

__all__ = ["describe_visit", "reminder"]


def describe_visit(appointment: Appointment) -> str:
    """The visit as a message names it: doctor, department, day, time and number."""
    schedule = appointment.schedule
    day = formats.date_format(schedule.date, "MONTH_DAY_FORMAT")
    return _("%(doctor)s (%(department)s) on %(day)s at %(time)s, number %(number)d") % {
        "doctor": schedule.doctor.name,
        "department": schedule.doctor.department.name,
        "day": day,
        "time": appointment.estimated_time.strftime("%H:%M"),
        "number": appointment.queue_number,
    }


def reminder(appointment: Appointment) -> None:
    schedule = appointment.schedule
    send_message(
        member=appointment.member,
        kind=MessageKind.REMINDER,
        title=_("Reminder: your appointment is tomorrow"),
        body=_(
            "Tomorrow: %(session)s, %(room)s. Please arrive 15 minutes early and check in at "
            "the front desk."
        )
        % {
            "session": describe_visit(appointment),
            "room": schedule.room or schedule.doctor.department.location or "",
        },
        reference=f"reminder:{appointment.pk}",
    )
