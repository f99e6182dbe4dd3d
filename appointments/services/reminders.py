"""The day-before reminder: members with a confirmed visit tomorrow are told once."""

from __future__ import annotations

import datetime as dt

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from members.models import Message, MessageKind

from .. import notices
from ..choices import AppointmentStatus
from ..models import Appointment

__all__ = ["send_visit_reminders"]


def send_visit_reminders(*, now: dt.datetime | None = None) -> int:
    """Remind members of tomorrow's confirmed appointments, once each (the hourly job).

    Safe to run again: an appointment that already has its reminder is skipped.
    """
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    reminded = Message.objects.filter(
        kind=MessageKind.REMINDER,
        reference=Concat(Value("reminder:"), Cast(OuterRef("pk"), CharField())),
    )
    due = (
        Appointment.objects.filter(schedule__date=tomorrow, status=AppointmentStatus.CONFIRMED)
        .exclude(Exists(reminded))
        .select_related("member", "schedule__doctor__department")
        .order_by("pk")
    )
    count = 0
    for appointment in due.iterator(chunk_size=500):
        notices.reminder(appointment)
        count += 1
    return count
