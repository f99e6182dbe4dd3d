"""What a clinic's use leaves behind besides its bookings, for the demo seed at any size: the
members' in-app messages, the operation log and the appointments' row history
(django-simple-history).

``seed_demo`` calls :func:`load_activity` once its appointments are written. The rows follow
the appointments' own times (booked, paid, cancelled, completed), so the admin's and the
console's lists, filters and orderings meet a realistic spread, and the benchmark measures
these tables at size (bench/admin_lists.py). Written with COPY on PostgreSQL like the rest of
the seed; no random draw is taken from the seed's streams, so the demo's other rows stay as
they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Schedule
from medbook.models import OperationLog, Outcome
from members.message_templates import day, snippet
from members.models import Message, MessageKind

Insert = Callable[[type, Sequence[str], Iterable[tuple]], None]

MESSAGE_COLUMNS = (
    "member_id",
    "kind",
    "template",
    "params",
    "title",
    "body",
    "reference",
    "created_at",
    "read_at",
    "texted_at",
    "emailed_at",
    "delivery_attempts",
    "delivery_error",
)
OPLOG_COLUMNS = (
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "reason",
    "detail",
    "outcome",
    "ip",
    "created_at",
    "prev_hash",
    "hash",
)
HISTORY_COLUMNS = (
    "id",
    "member_id",
    "schedule_id",
    "queue_number",
    "estimated_time",
    "status",
    "channel",
    "fee",
    "created_at",
    "confirmed_at",
    "checked_in_at",
    "completed_at",
    "cancelled_at",
    "cancel_reason",
    "cancelled_by_id",
    "called_at",
    "no_show_at",
    "staff_note",
    "history_date",
    "history_type",
    "history_user_id",
)
DESK_IP = "10.0.0.21"


@dataclass(frozen=True)
class ActivityCounts:
    messages: int
    operations: int
    history: int


def load_activity(
    *,
    appointments: Sequence[Any],
    clerk_id: int,
    now: dt.datetime,
    insert: Insert,
) -> ActivityCounts:
    """Messages, operation-log rows and history rows for ``appointments`` (the seed's
    ``AppointmentRow`` tuples), in one transaction."""
    with translation.override(settings.LANGUAGE_CODE):
        titles = {
            "booked": _("Appointment booked"),
            "cancelled": _("Appointment cancelled"),
            "reminder": _("Reminder: your appointment is tomorrow"),
            "paid": _("Payment received, appointment confirmed"),
        }
    counts = {"messages": 0, "operations": 0, "history": 0}

    def counted(name: str, rows: Iterator[tuple]) -> Iterator[tuple]:
        for row in rows:
            counts[name] += 1
            yield row

    with transaction.atomic():
        # Read before the COPY starts: a query on its connection while it runs waits forever.
        last = OperationLog.objects.order_by("-pk").values_list("hash", flat=True).first()
        visits = _visits(appointments)
        insert(
            Message,
            MESSAGE_COLUMNS,
            counted("messages", _messages(appointments, titles, visits, now)),
        )
        insert(
            OperationLog,
            OPLOG_COLUMNS,
            counted(
                "operations",
                _operations(appointments, clerk_id=clerk_id, now=now, previous=last or ""),
            ),
        )
        insert(
            Appointment.history.model,
            HISTORY_COLUMNS,
            counted("history", _history(appointments, clerk_id=clerk_id)),
        )
    return ActivityCounts(**counts)


def _visits(appointments: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """Per session: its doctor and department in both languages and its day, as a message's
    parameters name them (members.message_templates)."""
    ids = {row.schedule_id for row in appointments}
    sessions = Schedule.objects.filter(pk__in=ids).values_list(
        "pk",
        "date",
        "doctor__name",
        "doctor__name_en",
        "doctor__department__name",
        "doctor__department__name_en",
    )
    return {
        pk: {
            "doctor": {"zh-hans": doctor, "en": doctor_en or doctor},
            "department": {"zh-hans": department, "en": department_en or department},
            "day": day(date),
        }
        for pk, date, doctor, doctor_en, department, department_en in sessions
    }


def _messages(
    appointments: Sequence[Any],
    titles: dict[str, str],
    visits: dict[int, dict[str, Any]],
    now: dt.datetime,
) -> Iterator[tuple]:
    """A booking notice for every appointment (a paid notice when it was paid later), a
    cancellation notice for the cancelled ones and a reminder the day before each visit that
    took place. Most old ones were read a few hours later; texts went out with each."""
    done = {AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW}
    for row in appointments:
        ref = f"appointment:{row.id}"
        body = f"#{row.queue_number} {row.estimated_time:%H:%M}"
        time = f"{row.estimated_time:%H:%M}"
        params = {
            "visit": snippet("visit", **visits[row.schedule_id], time=time, number=row.queue_number)
        }
        for kind, title, moment in _notices(row, titles, done):
            if moment > now:
                continue
            read = moment + dt.timedelta(hours=1 + row.id % 9) if row.id % 10 < 7 else None
            if read is not None and read > now:
                read = None
            yield (
                row.member_id,
                kind,
                f"brief.{kind}",  # members.message_templates: rendered in the reader's language
                params,
                title,
                body,
                ref if kind != MessageKind.REMINDER else f"reminder:{row.id}",
                moment,
                read,
                moment,
                None,
                1,
                "",
            )


def _notices(row: Any, titles: dict[str, str], done: set) -> Iterator[tuple[str, str, Any]]:
    yield MessageKind.BOOKED, titles["booked"], row.created_at
    if row.status == AppointmentStatus.CANCELLED and row.cancelled_at is not None:
        yield MessageKind.CANCELLED, titles["cancelled"], row.cancelled_at
    elif row.status in done:
        visit = row.checked_in_at or row.no_show_at or row.created_at
        reminder = visit - dt.timedelta(days=1)
        if reminder > row.created_at:
            yield MessageKind.REMINDER, titles["reminder"], reminder


def _operations(
    appointments: Sequence[Any], *, clerk_id: int, now: dt.datetime, previous: str
) -> Iterator[tuple]:
    """The operations staff did on these appointments — the front desk's cancellations and the
    completed visits (written by the clerk's login for the demo's doctors without one), and
    the no-shows marked by the sweep — hash-chained in time order after the log's last row,
    as ``medbook.audit.record`` writes them (``manage.py verify_audit_log`` accepts them);
    ``previous`` is the hash of the log's last row."""
    events: list[tuple] = []
    for row in appointments:
        if row.status == AppointmentStatus.COMPLETED and row.completed_at is not None:
            events.append((row.completed_at, clerk_id, "appointment.complete", row, ""))
        elif row.status == AppointmentStatus.NO_SHOW and row.no_show_at is not None:
            events.append((row.no_show_at, None, "appointment.no_show", row, ""))
        elif row.cancelled_by_id == clerk_id and row.cancelled_at is not None:
            events.append(
                (
                    row.cancelled_at,
                    clerk_id,
                    "appointment.cancel_for_member",
                    row,
                    row.cancel_reason,
                )
            )
    events.sort(key=lambda event: (event[0], event[3].id))
    # COPY takes JSON as text; bulk_create (SQLite) wants the value.
    empty: Any = "{}" if connection.vendor == "postgresql" else {}
    for moment, actor, action, row, reason in events:
        if moment > now:
            continue
        # As read back from the database (UTC), which is what the chain's check hashes.
        moment = moment.astimezone(dt.UTC)
        label = f"#{row.queue_number} {row.estimated_time:%H:%M} ({row.id})"
        ip = DESK_IP if actor else None
        payload = json.dumps(
            [
                actor,
                action,
                "appointments.appointment",
                str(row.id),
                label,
                reason[:200],
                {},
                Outcome.SUCCESS,
                ip,
                moment.isoformat(),
            ],
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        digest = hashlib.sha256((previous + payload).encode()).hexdigest()
        yield (
            actor,
            action,
            "appointments.appointment",
            str(row.id),
            label,
            reason[:200],
            empty,
            Outcome.SUCCESS.value,
            ip,
            moment,
            previous,
            digest,
        )
        previous = digest


def _history(appointments: Sequence[Any], *, clerk_id: int) -> Iterator[tuple]:
    """Each appointment's history as the services' saves write it: the row as created, and
    the row as it is now when its status changed since."""
    for row in appointments:
        initial = (
            AppointmentStatus.PENDING_PAYMENT
            if row.confirmed_at is None or row.status == AppointmentStatus.PENDING_PAYMENT
            else AppointmentStatus.CONFIRMED
        )
        yield (
            row.id,
            row.member_id,
            row.schedule_id,
            row.queue_number,
            row.estimated_time,
            str(initial),
            row.channel,
            row.fee,
            row.created_at,
            row.confirmed_at if initial == AppointmentStatus.CONFIRMED else None,
            None,
            None,
            None,
            "",
            None,
            None,
            None,
            row.staff_note,
            row.created_at,
            "+",
            None,
        )
        if row.status == initial:
            continue
        changed = (
            row.completed_at
            or row.cancelled_at
            or row.no_show_at
            or row.checked_in_at
            or row.confirmed_at
            or row.created_at
        )
        yield (
            *row[:18],
            changed,
            "~",
            clerk_id if row.cancelled_by_id == clerk_id else None,
        )
