"""An appointment as an iCalendar file (RFC 5545) for the member's own calendar."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.models import Appointment


def _text(value: str) -> str:
    """Escape a TEXT value and keep it on one line."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def appointment_ics(appointment: Appointment) -> str:
    """One VEVENT from the estimated time for the visit's length; no personal data in it."""
    schedule = appointment.schedule
    doctor = schedule.doctor
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(schedule.date, appointment.estimated_time, tzinfo=zone)
    end = start + dt.timedelta(minutes=schedule.minutes_per_visit or 15)
    where = ", ".join(p for p in (doctor.department.local_location, schedule.local_room) if p)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//MedBook//Appointments//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{settings.MEDBOOK_PUBLIC_URL.split('//')[-1].strip('/')}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        "SUMMARY:"
        + _text(
            _("%(department)s · %(doctor)s · No. %(number)d")
            % {
                "department": doctor.department.local_name,
                "doctor": doctor.local_name,
                "number": appointment.queue_number,
            }
        ),
        f"LOCATION:{_text(where)}",
        "DESCRIPTION:"
        + _text(
            _(
                "Queue number %(number)d, expected at %(time)s. Please check in at the front "
                "desk 15 minutes early."
            )
            % {"number": appointment.queue_number, "time": f"{appointment.estimated_time:%H:%M}"}
        ),
        "BEGIN:VALARM",
        "TRIGGER:-PT2H",
        "ACTION:DISPLAY",
        "DESCRIPTION:"
        + _text(_("Appointment with %(doctor)s in 2 hours") % {"doctor": doctor.local_name}),
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
