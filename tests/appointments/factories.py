from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from appointments.choices import Channel, DoctorTitle, ScheduleStatus, Session
from appointments.models import Appointment, Department, Doctor, Schedule
from appointments.services import book_appointment


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"科室{n}")


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Doctor

    name = factory.Sequence(lambda n: f"医生{n}")
    department = factory.SubFactory(DepartmentFactory)
    title = DoctorTitle.ATTENDING
    registration_fee = Decimal("50.00")


def _tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=3)


class ScheduleFactory(factory.django.DjangoModelFactory):
    """A published morning session three days ahead, already open to the public."""

    class Meta:
        model = Schedule

    doctor = factory.SubFactory(DoctorFactory)
    date = factory.LazyFunction(_tomorrow)
    session = Session.MORNING
    start_time = dt.time(8, 0)
    end_time = dt.time(11, 30)
    capacity = 10
    minutes_per_visit = 15
    fee = Decimal("50.00")
    status = ScheduleStatus.PUBLISHED
    release_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


def book(member, schedule: Schedule, now: dt.datetime | None = None) -> Appointment:
    """A booking on the web at ``now`` (the present by default), by the appointments service
    alone: no order (tests.billing.factories.book places one with its order)."""
    return book_appointment(member=member, schedule=schedule, channel=Channel.WEB, now=now)
