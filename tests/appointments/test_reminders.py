"""The day-before reminder: one message per confirmed visit tomorrow, never for a hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from appointments import services
from appointments.choices import AppointmentStatus, Channel
from members.models import Message
from tests.appointments.factories import ScheduleFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_tomorrows_confirmed_appointments_are_reminded_once(member, other_member) -> None:
    now = timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    confirmed = services.book_appointment(
        member=member, schedule=ScheduleFactory(fee=0, date=tomorrow), channel=Channel.WEB
    )
    hold = services.book_appointment(  # unpaid: no reminder for a hold
        member=other_member,
        schedule=ScheduleFactory(fee=Decimal("50.00"), date=tomorrow),
        channel=Channel.WEB,
    )
    services.book_appointment(  # the day after tomorrow: not yet
        member=other_member,
        schedule=ScheduleFactory(fee=0, date=tomorrow + dt.timedelta(days=1)),
        channel=Channel.WEB,
    )
    assert (confirmed.status, hold.status) == (
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.PENDING_PAYMENT,
    )

    assert services.send_visit_reminders(now=now) == 1
    assert services.send_visit_reminders(now=now) == 0

    reminder = Message.objects.get(kind="reminder")
    assert reminder.member == member
    assert reminder.appointment_id == confirmed.pk
    assert "明天" in reminder.body


def test_the_reminder_uses_the_clinic_date_of_now(member) -> None:
    """Just after midnight in the clinic (still the previous day in UTC) "tomorrow" is the
    clinic's tomorrow."""
    clinic_today = timezone.localdate() + dt.timedelta(days=3)
    just_after_midnight = timezone.make_aware(
        dt.datetime.combine(clinic_today, dt.time(0, 5)), timezone.get_current_timezone()
    )
    services.book_appointment(
        member=member,
        schedule=ScheduleFactory(fee=0, date=clinic_today + dt.timedelta(days=1)),
        channel=Channel.WEB,
        now=just_after_midnight - dt.timedelta(days=2),
    )
    assert services.send_visit_reminders(now=just_after_midnight) == 1
