"""The appointments behind the bookings figures, one row each: what a detail export writes.

The dashboards read the rollups only; this list reads the raw rows (appointments with their
session, doctor, department, member and order), so it is read in windows of whole clinic days
(keyset on ``schedule.date``): one small GROUP BY counts each day's appointments, the days are
cut into windows of about ``CHUNK_ROWS`` rows, and each window is one indexed query ordered
within it, handed on before the next is read. However long the range, no more than one window
(``CHUNK_ROWS``, or one day when a day alone is bigger) is held at once, and the file is in day
order without an ``ORDER BY`` over the whole range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from appointments.choices import AppointmentStatus, Channel, Session
from appointments.models import Appointment
from medbook.i18n import local_name
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


CHUNK_ROWS = 5000


def _appointments(filters: BookingFilters, *, with_level: bool = True) -> QuerySet[Appointment]:
    """The appointments of the filters' sessions, as the bookings rollup counts them: level is
    the member's level when they booked (reports.services.level_when_booked); ``with_level``
    False leaves the level (and its filter) out."""
    rows = Appointment.objects.all()
    if filters.department is not None:
        rows = rows.filter(schedule__doctor__department=filters.department)
    if filters.doctor is not None:
        rows = rows.filter(schedule__doctor=filters.doctor)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if with_level:
        rows = rows.annotate(level_at=level_when_booked())
        if filters.level is not None:
            rows = rows.filter(level_at=filters.level.pk)
    return rows.order_by()


def count_appointments(*, filters: BookingFilters) -> int:
    """How many rows the list of ``filters`` has (one COUNT, for the progress bar)."""
    rows = _appointments(filters, with_level=filters.level is not None)
    return rows.filter(schedule__date__range=(filters.start, filters.end)).count()


def _windows(filters: BookingFilters, chunk_rows: int) -> list[tuple[dt.date, dt.date]]:
    """The range cut into windows of whole days holding about ``chunk_rows`` appointments each
    (counted before the level filter, so a window holds at most that many, or one day)."""
    per_day = dict(
        _appointments(filters, with_level=False)
        .filter(schedule__date__range=(filters.start, filters.end))
        .values("schedule__date")
        .annotate(n=Count("id"))
        .values_list("schedule__date", "n")
    )
    windows: list[tuple[dt.date, dt.date]] = []
    first: dt.date | None = None
    last, rows = filters.start, 0
    for day in sorted(per_day):
        if first is not None and rows + per_day[day] > chunk_rows:
            windows.append((first, last))
            first, rows = None, 0
        if first is None:
            first = day
        last, rows = day, rows + per_day[day]
    if first is not None:
        windows.append((first, last))
    return windows


FIELDS = (
    "schedule__date",
    "schedule__session",
    "schedule__start_time",
    "queue_number",
    "schedule__doctor__department__name",
    "schedule__doctor__department__name_en",
    "schedule__doctor__name",
    "schedule__doctor__name_en",
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


def appointment_rows(
    *, filters: BookingFilters, masked: bool, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[tuple]]:
    """The list of ``filters`` a window of days at a time (a list of rows per window), in the
    order of :func:`appointment_columns`. ``masked``: names as 张** and mobile numbers as
    138****1234 (staff who may not see personal data in full)."""
    levels = {
        pk: local_name(name, name_en)
        for pk, name, name_en in MemberLevel.objects.values_list("pk", "name", "name_en")
    }
    sessions = {value: str(label) for value, label in Session.choices}
    channels = {value: str(label) for value, label in Channel.choices}
    statuses = {value: str(label) for value, label in AppointmentStatus.choices}
    query = _appointments(filters).order_by(
        "schedule__date",
        "schedule__start_time",
        "schedule__doctor__department__sort_order",
        "schedule__doctor__department__name",
        "schedule__doctor__name",
        "schedule_id",
        "queue_number",
        "id",
    )
    for first, last in _windows(filters, chunk_rows):
        rows = []
        for (
            date,
            session,
            start,
            number,
            department,
            department_en,
            doctor,
            doctor_en,
            name,
            phone,
            level,
            channel,
            status,
            fee,
            amount,
            paid_at,
            refunded,
        ) in query.filter(schedule__date__range=(first, last)).values_list(*FIELDS):
            rows.append(
                (
                    date,
                    sessions.get(session, session),
                    start.strftime("%H:%M"),
                    number,
                    local_name(department, department_en),
                    local_name(doctor, doctor_en),
                    mask_name(name) if masked else name,
                    mask_phone(phone) if masked else _national(phone),
                    levels.get(level, ""),
                    channels.get(channel, channel),
                    statuses.get(status, status),
                    fee,
                    amount if paid_at is not None else ZERO,
                    refunded if refunded is not None else ZERO,
                )
            )
        if rows:
            yield rows
