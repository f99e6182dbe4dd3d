"""The appointments behind the bookings figures, one row each: what a detail export writes.

The dashboards read the rollups only; this list reads the raw rows (appointments with their
session, doctor, department, member and order), so it is read a clinic day at a time: each
day is one indexed query (``schedule.date``), ordered within the day, and the rows are handed
on before the next day is read. However long the range, no more than one day's appointments
are held at once, and the file is in day order without an ``ORDER BY`` over the whole range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from appointments.choices import AppointmentStatus, Channel, Session
from appointments.models import Appointment
from medbook.personal_data import mask_phone
from members.models import MemberLevel
from members.selectors import mask_name

from ..services import level_when_booked
from ..tables import Column, Kind
from .bookings import BookingFilters

ZERO = Decimal("0.00")


def appointment_columns() -> tuple[Column, ...]:
    """The list's columns, labelled in the active language."""
    return (
        Column(_("Day"), Kind.DATE),
        Column(_("Session"), Kind.TEXT),
        Column(_("Starts"), Kind.TEXT),
        Column(_("Queue number")),
        Column(_("Department"), Kind.TEXT),
        Column(_("Doctor"), Kind.TEXT),
        Column(_("Member"), Kind.TEXT),
        Column(_("Mobile number"), Kind.TEXT),
        Column(_("Level when booked"), Kind.TEXT),
        Column(_("Channel"), Kind.TEXT),
        Column(_("Status"), Kind.TEXT),
        Column(_("Fee"), Kind.MONEY),
        Column(_("Paid"), Kind.MONEY),
        Column(_("Refunded"), Kind.MONEY),
    )


def _appointments(filters: BookingFilters) -> QuerySet[Appointment]:
    """The appointments of the filters' sessions, as the bookings rollup counts them: level is
    the member's level when they booked (reports.services.level_when_booked)."""
    rows = Appointment.objects.all()
    if filters.department is not None:
        rows = rows.filter(schedule__doctor__department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(schedule__doctor=filters.doctor)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    rows = rows.annotate(level_at=level_when_booked())
    if filters.level is not None:
        rows = rows.filter(level_at=filters.level.pk)
    return rows.order_by()


def count_appointments(*, filters: BookingFilters) -> int:
    """How many rows the list of ``filters`` has (one COUNT, for the progress bar)."""
    return _appointments(filters).filter(schedule__date__range=(filters.start, filters.end)).count()


FIELDS = (
    "schedule__date",
    "schedule__session",
    "schedule__start_time",
    "queue_number",
    "schedule__doctor__department__name",
    "schedule__doctor__name",
    "member__name",
    "member__phone",
    "level_at",
    "channel",
    "status",
    "fee",
    "order__amount",
    "order__paid_at",
    "order__refunded_amount",
)


def _national(phone: str) -> str:
    """A Chinese mobile as people write it (13812345678); others as stored (E.164)."""
    return phone[3:] if phone and phone.startswith("+86") else phone


def appointment_rows(*, filters: BookingFilters, masked: bool) -> Iterator[list[tuple]]:
    """The list of ``filters``, one clinic day at a time (a list of rows per day that has
    any), in the order of :func:`appointment_columns`. ``masked``: names as 张** and mobile
    numbers as 138****1234 (staff who may not see personal data in full)."""
    levels = dict(MemberLevel.objects.values_list("pk", "name"))
    sessions = dict(Session.choices)
    channels = dict(Channel.choices)
    statuses = dict(AppointmentStatus.choices)
    query = _appointments(filters).order_by(
        "schedule__start_time",
        "schedule__doctor__department__sort_order",
        "schedule__doctor__department__name",
        "schedule__doctor__name",
        "schedule_id",
        "queue_number",
        "id",
    )
    day = filters.start
    while day <= filters.end:
        rows = []
        for (
            date,
            session,
            start,
            number,
            department,
            doctor,
            name,
            phone,
            level,
            channel,
            status,
            fee,
            amount,
            paid_at,
            refunded,
        ) in query.filter(schedule__date=day).values_list(*FIELDS):
            rows.append(
                (
                    date,
                    str(sessions.get(session, session)),
                    start.strftime("%H:%M"),
                    number,
                    department,
                    doctor,
                    mask_name(name) if masked else name,
                    mask_phone(phone) if masked else _national(phone),
                    levels.get(level, ""),
                    str(channels.get(channel, channel)),
                    str(statuses.get(status, status)),
                    fee,
                    amount if paid_at is not None else ZERO,
                    refunded if refunded is not None else ZERO,
                )
            )
        if rows:
            yield rows
        day += dt.timedelta(days=1)
