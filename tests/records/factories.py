"""Visit records for tests, written by the records services as a doctor would."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from appointments.choices import Channel
from appointments.models import Schedule
from appointments.services import book_appointment, check_in_appointment
from records import services
from records.services import RecordText
from tests.appointments.factories import ScheduleFactory
from tests.security.world import running_since

TEXT = RecordText(
    chief_complaint="头痛、头晕三天",
    diagnosis_code="I10",
    advice="低盐饮食，每日监测血压",
    prescriptions="氨氯地平片 5mg 每日一次\n\n阿司匹林肠溶片 100mg 每日一次",
    follow_up_on=None,
)


def _session(doctor) -> Schedule:
    """A session of ``doctor`` under way today (each call a new one, a minute earlier)."""
    start = running_since() - dt.timedelta(minutes=Schedule.objects.filter(doctor=doctor).count())
    return ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )


def checked_in(member, doctor_user, patient=None):
    """``member`` (or their ``patient``) checked in to ``doctor_user``'s session under way."""
    schedule = _session(doctor_user.doctor)
    appointment = book_appointment(
        member=member,
        schedule=schedule,
        channel=Channel.WEB,
        now=schedule.starts_at - dt.timedelta(hours=1),
        patient=patient,
    )
    return check_in_appointment(appointment=appointment)


def written(member, doctor_user, text: RecordText = TEXT, patient=None):
    """A record the doctor wrote at ``member``'s visit (completed with it)."""
    appointment = checked_in(member, doctor_user, patient)
    return services.write_record(appointment=appointment, text=text, by=doctor_user)
