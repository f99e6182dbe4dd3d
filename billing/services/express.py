"""The express booking: a member's plain booking from the web, in four statements (PostgreSQL).

At a release, the attempts the gate lets through are winners: each must be written quickly,
since the session's row is held from the slot taken to the commit. :func:`place_booking` does
it with the ORM — some fifteen statements, each compiled, with django-simple-history's signals
— and costs a winner several times a page. Here the same booking is four statements whose SQL
is built once from the models:

1. lock the member (``FOR NO KEY UPDATE``) and read, with it, the level, the session with its
   doctor and department, the patient (and whether insured), the clinic's 实名制 setting and
   whether a webhook wants bookings;
2. the patient's active bookings (read after the member's lock: none of theirs can be on its
   way); the rules decide;
3. and 4., in one round trip: the slot taken with the booking core's conditional ``UPDATE``
   (which locks the session's row), then a statement of its own — so that it sees every booking
   committed while the ``UPDATE`` waited — that finds the lowest free number and its time and
   writes the appointment, the order, both history rows, the message and its outbox row. The
   message is rendered before, with :data:`NUMBER` and :data:`TIME` standing for the number and
   time, which that statement puts in. The session's row is held for that round trip and the
   commit only. The outbox row is handed over by the workers' listener, which the statement
   notifies (:mod:`medbook.outbox_listener`), not by this request.

The rules are the booking core's own (:func:`appointments.selectors.booking_blocker`), checked
in Python on what statements 1 and 2 read, before anything is written. Whatever is not plain —
another database, a chosen time slot, an insured patient or one to verify, a late booking not
acknowledged, a refusal, a session that changed or looks full — is not decided here: the
transaction is rolled back (nothing was written) and the caller books through
:func:`place_booking`, which decides it and says why. The rows written are the same as
:func:`place_booking` writes (a test compares them column by column).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from appointments import catalogue_cache, hooks
from appointments.choices import ACTIVE_STATUSES, AppointmentStatus, Channel, ScheduleStatus
from appointments.models import Appointment, Department, Doctor, Schedule
from appointments.selectors import MemberBookings, booking_blocker, not_cancellable_online
from appointments.selectors.booking import UPCOMING_STATUSES
from appointments.services.stock import mark_sold_out
from appointments.slots import slots_of
from medbook import metrics, money, outbox, outbox_listener
from medbook.models import ClinicProfile, WebhookSubscription
from members.insurance import InsuranceCard
from members.models import Member, MemberLevel, Message, Patient, Relation
from members.services import DELIVERY_TASK, new_message

from .. import notices
from ..models import Order
from .orders import new_out_trade_no

__all__ = ["Booked", "express_booking"]


@dataclass(frozen=True)
class Booked:
    """What the express booking wrote: the appointment, and the order holding it (a paid
    session) with the time the hold runs out."""

    appointment_id: int
    order_id: int | None
    hold_until: dt.datetime | None


class _NotPlain(Exception):
    """Rolls the express transaction back: :func:`place_booking` decides this booking."""


def express_booking(
    *,
    user_id: int,
    schedule_id: int,
    patient_id: int | None,
    accept_late: bool,
    now: dt.datetime,
) -> Booked | None:
    """Book ``schedule_id`` from the web for the member whose login is ``user_id`` (also the
    history rows' author): for the account holder, or ``patient_id``, one of the account's
    patients; as :func:`place_booking` would. ``accept_late``: the member ticked that a visit
    this close cannot be cancelled online. None: nothing was written, the booking is for
    :func:`place_booking` to decide (not plain, or refused; a staff login has no member)."""
    if connection.vendor != "postgresql" or not settings.MEDBOOK_EXPRESS_BOOKING:
        return None
    try:
        with transaction.atomic():
            booked = _book(user_id, schedule_id, patient_id, accept_late, now)
    except _NotPlain:
        return None
    metrics.count_booking("won")
    return booked


def _book(
    user_id: int,
    schedule_id: int,
    patient_id: int | None,
    accept_late: bool,
    now: dt.datetime,
) -> Booked:
    sql = _sql()
    with connection.cursor() as cursor:
        # 1. The member's row, locked; the session, its doctor and department; the patient.
        ids = {
            "user": user_id,
            "schedule": schedule_id,
            "patient": patient_id,
            "events": sorted(WEBHOOK_EVENTS),
        }
        cursor.execute(sql.read, ids)
        row = cursor.fetchone()
        if row is None:
            raise _NotPlain  # no such session or member (the full path says which)
        member, schedule, patient, insured, verified_only, webhooks_wanted = _rows(row)
        late = not_cancellable_online(schedule=schedule, member=member, now=now)
        if (
            insured
            or patient is None
            or patient.removed_at is not None
            or schedule.status != ScheduleStatus.PUBLISHED
            or not schedule.doctor.is_active
            or slots_of(schedule)
            or (not patient.is_verified and verified_only)  # 实名制, as the clinic set it
            or (late and not accept_late)
        ):
            raise _NotPlain
        # 2. The patient's bookings (read after the member's lock: none can be on its way).
        active = list(ACTIVE_STATUSES)
        today = timezone.localdate(now)
        cursor.execute(sql.bookings, {"patient": patient.pk, "active": active, "today": today})
        held = cursor.fetchall()
        bookings = MemberBookings(  # as appointments.selectors.member_bookings reads them
            schedule_ids=frozenset(sid for sid, _, _, _ in held),
            upcoming=sum(1 for _, status, _, _ in held if status in UPCOMING_STATUSES),
            department_days=frozenset((day, dep) for _, _, day, dep in held),
        )
        blocker = booking_blocker(
            schedule=schedule,
            member=member,
            now=now,
            bookings=bookings,
            seats=False,
            patient=patient,
        )
        if blocker is not None:
            raise _NotPlain
        # 3. The slot taken, then (a statement of its own: it sees every booking committed
        # while it waited for the session's row) the lowest free number and every row.
        appointment, order = _new_rows(member, schedule, patient, now)
        if order is not None and order.amount <= 0:
            raise _NotPlain  # nothing to pay: the full path settles it
        message = new_message(member_id=member.pk, **notices.booked_message(appointment, order))
        task = outbox.new_task(DELIVERY_TASK)
        cursor.execute(*_take_and_write(schedule, appointment, order, message, task, user_id))
        taken = cursor.fetchone()
        cursor.nextset()
        written = cursor.fetchone()
        if taken is None or written is None:
            raise _NotPlain  # changed since it was read, or full: the full path looks again
        booked, offered, _ = taken
        appointment.pk, number, order_pk, message.pk, task.pk, _ = written
    appointment.queue_number = number
    appointment.estimated_time = schedule.estimated_time(number)
    appointment._state.adding = False
    catalogue_cache.sessions_changed(doctor_ids=[schedule.doctor_id])
    if booked + offered >= schedule.capacity:
        schedule.booked, schedule.offered = booked, offered
        mark_sold_out(schedule, now)
    if webhooks_wanted:
        hooks.appointment_event("booked", appointment, now=now)
        if order is None:
            hooks.appointment_event("confirmed", appointment, now=now)
    return Booked(appointment.pk, order_pk, order.expires_at if order is not None else None)


def _rows(row: tuple) -> tuple[Member, Schedule, Patient | None, bool, bool, bool]:
    """Model instances from statement 1's row (no query: each with what it was read with; the
    member's other fields, never needed here, would be read if asked for)."""
    sql = _sql()
    values = iter(row)
    member = _instance(Member, MEMBER_FIELDS, values)
    level = _instance(MemberLevel, sql.level_fields, values)
    schedule = _instance(Schedule, sql.schedule_fields, values)
    doctor = _instance(Doctor, sql.doctor_fields, values)
    department = _instance(Department, sql.department_fields, values)
    patient_values = [next(values) for _ in sql.patient_fields]
    insured, verified_only, webhooks_wanted = (bool(value) for value in values)
    doctor.department = department
    schedule.doctor = doctor
    member.level = level
    patient = None
    if patient_values[0] is not None:
        patient = Patient.from_db(connection.alias, sql.patient_fields, patient_values)
        patient.member = member
        # Read with it (uninsured when it goes on), as members.patients.bookable_patients
        # leaves it: nothing asks the database for the card again.
        Patient.insurance_card.related.set_cached_value(patient, None)
    return member, schedule, patient, insured, verified_only, webhooks_wanted


def _instance(model: type[Model], fields: list[str], values) -> Model:
    return model.from_db(connection.alias, fields, [next(values) for _ in fields])


class _TimeToCome:
    """Stands for the appointment's estimated time while its message is written, before its
    number is known: formatted as :data:`TIME`, which statement 3 replaces."""

    def strftime(self, format: str) -> str:
        return TIME


def _new_rows(
    member: Member, schedule: Schedule, patient: Patient, now: dt.datetime
) -> tuple[Appointment, Order | None]:
    """The appointment and order as the booking core and billing make them (not saved), the
    queue number and time still to be filled in (:data:`NUMBER`, :data:`TIME`)."""
    free = schedule.fee == 0
    appointment = Appointment(
        member=member,
        patient=patient,
        schedule=schedule,
        queue_number=NUMBER,
        estimated_time=_TimeToCome(),
        status=AppointmentStatus.CONFIRMED if free else AppointmentStatus.PENDING_PAYMENT,
        channel=Channel.WEB,
        fee=schedule.fee,
        created_at=now,
        confirmed_at=now if free else None,
        staff_note="",
    )
    if free:
        return appointment, None
    rate = member.level.discount_rate
    order = Order(
        member=member,
        out_trade_no=new_out_trade_no(now),
        gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
        original_amount=appointment.fee,
        discount_rate=rate,
        amount=money.payable(fee=appointment.fee, discount_rate=rate),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
    )
    return appointment, order


# -- the statements, built once from the models -------------------------------------------------

# Stand for the queue number and its time in the message written before they are known;
# statement 3 puts the real ones in their place (in its title, text and parameters).
NUMBER = 987654321
TIME = "@@TIME@@"
TOOK = "medbook.express_took"  # set, for this transaction, by the UPDATE that took the slot
WEBHOOK_EVENTS = frozenset({"appointment.booked", "appointment.confirmed"})


@dataclass(frozen=True)
class _Statements:
    read: str
    bookings: str
    take_and_write: dict[bool, str]  # by whether the session has a fee (an order)
    params: dict[str, list[str]]  # the fields each insert takes as parameters, by model
    level_fields: list[str]
    schedule_fields: list[str]
    doctor_fields: list[str]
    department_fields: list[str]
    patient_fields: list[str]


MEMBER_FIELDS = ["id", "user_id", "name", "language", "level_id", "banned_until"]
PATIENT_FIELDS = ["id", "member_id", "name", "relation", "verified_at", "removed_at"]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[Model]) -> str:
    return _q(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return _q(model._meta.get_field(name).column)


def _all(model: type[Model], alias: str) -> tuple[list[str], str]:
    fields = [f.attname for f in model._meta.concrete_fields]
    columns = ", ".join(f"{alias}.{_q(f.column)}" for f in model._meta.concrete_fields)
    return fields, columns


@cache
def _sql() -> _Statements:
    """The statements (identifiers from the models, every value a parameter)."""
    level_fields, level_columns = _all(MemberLevel, "l")
    schedule_fields, schedule_columns = _all(Schedule, "s")
    doctor_fields, doctor_columns = _all(Doctor, "d")
    department_fields, department_columns = _all(Department, "dp")
    member_columns = ", ".join(f"m.{_column(Member, name)}" for name in MEMBER_FIELDS)
    patient_columns = ", ".join(f"p.{_column(Patient, name)}" for name in PATIENT_FIELDS)
    card = InsuranceCard
    read = f"""
        SELECT {member_columns}, {level_columns}, {schedule_columns},
               {doctor_columns}, {department_columns}, {patient_columns},
               EXISTS (SELECT 1 FROM {_table(card)} c WHERE c.{_column(card, "patient")} = p.id),
               COALESCE((SELECT {_column(ClinicProfile, "booking_requires_verified_patient")}
                         FROM {_table(ClinicProfile)} WHERE id = 1), FALSE),
               EXISTS (SELECT 1 FROM {_table(WebhookSubscription)} w
                       WHERE w.{_column(WebhookSubscription, "active")}
                         AND w.{_column(WebhookSubscription, "events")} ?| %(events)s)
        FROM {_table(Member)} m
        JOIN {_table(MemberLevel)} l ON l.id = m.level_id
        JOIN {_table(Schedule)} s ON s.id = %(schedule)s
        JOIN {_table(Doctor)} d ON d.id = s.doctor_id
        JOIN {_table(Department)} dp ON dp.id = d.department_id
        LEFT JOIN {_table(Patient)} p ON p.member_id = m.id AND (
            p.id = %(patient)s OR (%(patient)s::bigint IS NULL AND p.relation = '{Relation.SELF}'))
        WHERE m.user_id = %(user)s
        FOR NO KEY UPDATE OF m
    """  # noqa: S608
    bookings = f"""
        SELECT a.schedule_id, a.status, s.date, d.department_id
        FROM {_table(Appointment)} a
        JOIN {_table(Schedule)} s ON s.id = a.schedule_id
        JOIN {_table(Doctor)} d ON d.id = s.doctor_id
        WHERE a.patient_id = %(patient)s AND a.status = ANY(%(active)s) AND s.date >= %(today)s
    """  # noqa: S608
    params: dict[str, list[str]] = {}
    return _Statements(
        read=read,
        bookings=bookings,
        take_and_write={
            paid: _take_sql() + ";" + _write_sql(paid, params) for paid in (True, False)
        },
        params=params,
        level_fields=level_fields,
        schedule_fields=schedule_fields,
        doctor_fields=doctor_fields,
        department_fields=department_fields,
        patient_fields=PATIENT_FIELDS,
    )


def _take_sql() -> str:
    """booking.py's ``_take_slot`` as SQL: ``booked`` + 1 if the session is as it was read and
    has a free slot and, for its last free slot, when it sold out (if never before)."""
    return f"""
        UPDATE {_table(Schedule)}
        SET booked = booked + 1,
            sold_out_at = COALESCE(
                sold_out_at,
                CASE WHEN booked >= capacity - offered - 1 THEN %(now)s::timestamptz END)
        WHERE id = %(schedule)s AND updated_at = %(updated_at)s
          AND status = '{ScheduleStatus.PUBLISHED}' AND booked < capacity - offered
        RETURNING booked, offered, set_config('{TOOK}', id::text, true)
    """  # noqa: S608


def _write_sql(paid: bool, params: dict[str, list[str]]) -> str:
    """The lowest number nobody holds (as booking.py's ``_free_queue_number``) with its time
    (``Schedule.estimated_time``), and every row the booking writes — only if the slot was
    taken."""
    appointment = Appointment._meta
    number = f"""
        SELECT g AS number,
               (%(starts)s::timestamp + make_interval(mins => %(minutes)s * (g - 1)))::time AS at
        FROM generate_series(1, %(capacity)s) AS g
        WHERE current_setting('{TOOK}', true) = %(schedule)s::text
          AND NOT EXISTS (
              SELECT 1 FROM {_table(Appointment)} x
              WHERE x.schedule_id = %(schedule)s AND x.status = ANY(%(active)s)
                AND x.{_column(Appointment, "queue_number")} = g)
        ORDER BY g LIMIT 1
    """  # noqa: S608
    parts = [f"n AS ({number})"]
    insert, params["appointment"] = _insert(
        Appointment, "n", {"queue_number": "n.number", "estimated_time": "n.at"}
    )
    parts += [f"a AS ({insert})", f"ah AS ({_history(Appointment, 'a')})"]
    if paid:
        insert, params["order"] = _insert(Order, "a", {"appointment_id": "a.id"})
        parts += [f"o AS ({insert})", f"oh AS ({_history(Order, 'o')})"]
    insert, params["message"] = _insert(
        Message,
        "a, n",
        {
            "reference": "%(message_reference)s || a.id",
            "title": _filled("%(message_title)s"),
            "body": _filled("%(message_body)s"),
            "params": _filled("%(message_params)s::text") + "::jsonb",
        },
    )
    parts.append(f"m AS ({insert})")
    insert, params["outboxtask"] = _insert(
        outbox.OutboxTask, "m", {"args": "jsonb_build_array(m.id)"}
    )
    parts.append(f"t AS ({insert})")
    # The outbox row is handed over by the listener once this commits (outbox_listener).
    notify = outbox_listener.notify("t.id")
    order = "o.id" if paid else "NULL::bigint"
    sources = "a, o, m, t" if paid else "a, m, t"
    return (
        f"WITH {', '.join(parts)} "  # noqa: S608
        f"SELECT a.id, a.{_q(appointment.get_field('queue_number').column)}, {order}, m.id, "
        f"t.id, {notify} FROM {sources}"
    )


def _filled(expression: str) -> str:
    """``expression`` with the number and its time in place of :data:`NUMBER`, :data:`TIME`."""
    number = f"replace({expression}, '{NUMBER}', n.number::text)"
    return f"replace({number}, '{TIME}', to_char(n.at, 'HH24:MI'))"


def _insert(model: type[Model], source: str, given: dict[str, str]) -> tuple[str, list[str]]:
    """``INSERT INTO model (every column) SELECT … FROM source``: the expressions in
    ``given`` (by field name), a parameter named after the field for the others. Returns the
    SQL and the fields whose values are parameters."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(_q(field.column))
        if field.attname in given:
            values.append(given[field.attname])
        else:
            values.append(f"%({model._meta.model_name}_{field.attname})s")
            params.append(field.attname)
    sql = (
        f"INSERT INTO {_table(model)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source} RETURNING *"
    )
    return sql, params


def _history(model: type[Model], source: str) -> str:
    """django-simple-history's "created" row of what ``source`` (a CTE of ``model``) holds."""
    history = model.history.model
    base = {field.attname: field.column for field in model._meta.concrete_fields}
    special = {
        "history_date": "%(history_date)s",
        "history_change_reason": "NULL",
        "history_type": "'+'",
        "history_user_id": "%(history_user_id)s",
    }
    columns, values = [], []
    for field in history._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        columns.append(_q(field.column))
        if field.attname in special:
            values.append(special[field.attname])
        elif field.attname in base:
            values.append(f"{source}.{_q(base[field.attname])}")
        else:  # a field simple-history adds that this statement does not know: fail loudly
            raise LookupError(f"{history.__name__}.{field.attname} is not written by express")
    return (
        f"INSERT INTO {_table(history)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {source}"
    )


def _take_and_write(
    schedule: Schedule,
    appointment: Appointment,
    order: Order | None,
    message: Message,
    task: outbox.OutboxTask,
    user_id: int,
) -> tuple[str, dict]:
    """Statement 3 and its parameters."""
    sql = _sql()
    params: dict = {
        "schedule": schedule.pk,
        "updated_at": schedule.updated_at,
        "now": appointment.created_at,
        "capacity": schedule.capacity,
        "active": list(ACTIVE_STATUSES),
        "starts": dt.datetime.combine(schedule.date, schedule.start_time),
        "minutes": schedule.minutes_per_visit,
        "history_date": timezone.now(),
        "history_user_id": user_id,
        "message_reference": notices.APPOINTMENT_REFERENCE,
        "message_title": message.title,
        "message_body": message.body,
        "message_params": json.dumps(message.params),
    }
    for model, obj in (
        (Appointment, appointment),
        (Order, order),
        (Message, message),
        (outbox.OutboxTask, task),
    ):
        if obj is None:
            continue
        name = model._meta.model_name
        for attname in sql.params[name]:
            field = next(f for f in model._meta.concrete_fields if f.attname == attname)
            value = field.get_db_prep_save(field.pre_save(obj, True), connection)
            params[f"{name}_{attname}"] = value
    return sql.take_and_write[order is not None], params
