"""Building the reports' rollups (reports.models) from the raw tables.

A range of clinic days is rebuilt in one transaction: its rows are deleted, then each table is
filled by one ``INSERT … SELECT … GROUP BY`` over the raw rows (set-based, never row by row in
Python). The per-row part of each SELECT is written with the ORM, so that the same code runs on
PostgreSQL and on SQLite (the hour of a time, the weekday of a date and the level look-up differ
in their SQL); only the outer grouping, plain SQL both databases share, is written by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
    TruncTime,
)
from django.utils import timezone

from appointments.choices import AppointmentStatus, ScheduleStatus
from appointments.models import Appointment, ReleaseDemand, Schedule
from billing.choices import RefundStatus
from billing.models import Order, Refund
from billing.services.orders import EXPIRED_HOLD_REASON
from members.models import Member, PointsEntry

from .choices import Canceller, LeadTime, SellOut
from .exceptions import BadRange
from .models import (
    DailyActiveMember,
    DailyBookingStat,
    DailyFlowStat,
    DailyLevelChange,
    DailyMemberStat,
    DailyPayerStat,
    DailyPointsStat,
    DailyReleaseStat,
    DailyRevenueStat,
    DailySessionStat,
    RollupState,
)

# The rollups a range's rebuild deletes and writes again (the members' four: _rebuild_members).
ROLLUPS = (
    DailySessionStat,
    DailyBookingStat,
    DailyRevenueStat,
    DailyPayerStat,
    DailyReleaseStat,
    DailyFlowStat,
)


@dataclass(frozen=True)
class RebuildResult:
    first_day: dt.date
    last_day: dt.date
    session_rows: int
    booking_rows: int
    revenue_rows: int = 0
    payer_rows: int = 0
    release_rows: int = 0
    flow_rows: int = 0
    # The members' rollups: new members, level changes, points, active members.
    member_rows: int = 0


GRAIN = [
    ("date", "r_date"),
    ("weekday", "r_weekday"),
    ("department_id", "r_department"),
    ("doctor_id", "r_doctor"),
    ("session", "r_session"),
    ("start_hour", "r_hour"),
]


GRAIN_ALIASES = [alias for _column, alias in GRAIN]


def _grain_of(schedule: str) -> dict[str, object]:
    """The columns both rollups group by, read from the schedule at the path ``schedule``
    ("" for a schedule's own row, "schedule__" for an appointment's)."""
    return {
        "r_date": F(f"{schedule}date"),
        "r_weekday": ExtractIsoWeekDay(f"{schedule}date") - 1,
        "r_department": F(f"{schedule}doctor__department_id"),
        "r_doctor": F(f"{schedule}doctor_id"),
        "r_session": F(f"{schedule}session"),
        "r_hour": ExtractHour(f"{schedule}start_time"),
    }


def _session_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per schedule of the range, with the columns the rollup groups by."""
    return (
        Schedule.objects.filter(date__range=(start, end))
        .annotate(
            **_grain_of(""),
            r_suspended=Case(
                When(status=ScheduleStatus.SUSPENDED, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            r_capacity=F("capacity"),
        )
        .values(
            *GRAIN_ALIASES,
            "r_suspended",
            "r_capacity",
        )
        .order_by()
    )


def level_when_booked(appointment: str = "") -> Coalesce:
    """The member's level when the appointment was made: the level in the member's last history
    row written at or before ``created_at``; the member's level now when there is none (rows
    loaded in bulk carry no history). ``appointment``: the path to the appointment ("" for an
    appointment's own row, "appointment__" for an order's, "order__appointment__" for a
    refund's)."""
    history = Member.history.model.objects.filter(
        id=OuterRef(f"{appointment}member_id"),
        history_date__lte=OuterRef(f"{appointment}created_at"),
    ).order_by("-history_date", "-history_id")
    return Coalesce(
        Subquery(history.values("level_id")[:1]),
        F(f"{appointment}member__level_id"),
        output_field=IntegerField(),
    )


def _booked_at_least(hours: int) -> Q:
    """The appointment was made at least ``hours`` before its session's start: ``created_at`` +
    ``hours`` is at or before the session's date and start time, read in the clinic's time zone
    (the date and the time compared in turn, as both databases can)."""
    moment = ExpressionWrapper(
        F("created_at") + Value(dt.timedelta(hours=hours), output_field=DurationField()),
        output_field=DateTimeField(),
    )
    zone = timezone.get_default_timezone()
    day = TruncDate(moment, tzinfo=zone)
    time = TruncTime(moment, tzinfo=zone)
    return Q(schedule__date__gt=day) | Q(schedule__date=day, schedule__start_time__gte=time)


def lead_time_bucket() -> Case:
    """The appointment's lead time bucket (reports.choices.LeadTime)."""
    return Case(
        *(
            When(_booked_at_least(hours), then=Value(int(bucket)))
            for bucket, hours in LeadTime.bounds()
        ),
        default=Value(int(LeadTime.UNDER_24_HOURS)),
        output_field=IntegerField(),
    )


def canceller() -> Case:
    """Who cancelled a cancelled appointment (reports.choices.Canceller), from what the
    appointment records: the member's own account, another user (staff), or no user — MedBook
    itself, which cancels in two places only: an unpaid hold running out (its fixed reason,
    billing.services.orders.EXPIRED_HOLD_REASON) and a suspended session (停诊, every other
    reason). 0 for an appointment that is not cancelled."""
    return Case(
        When(~Q(status=AppointmentStatus.CANCELLED), then=Value(0)),
        When(
            cancelled_by__isnull=False,
            cancelled_by=F("member__user_id"),
            then=Value(Canceller.MEMBER),
        ),
        When(cancelled_by__isnull=False, then=Value(Canceller.STAFF)),
        When(cancel_reason=EXPIRED_HOLD_REASON, then=Value(Canceller.HOLD_EXPIRED)),
        default=Value(Canceller.SUSPENDED),
        output_field=IntegerField(),
    )


def _booking_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per appointment of the range's sessions, with the columns the rollup groups by."""
    return (
        Appointment.objects.filter(schedule__date__range=(start, end))
        .annotate(
            **_grain_of("schedule__"),
            r_level=level_when_booked(),
            r_channel=F("channel"),
            r_lead=lead_time_bucket(),
            r_canceller=canceller(),
            r_status=F("status"),
            r_arrived=Case(
                When(checked_in_at__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values(
            *GRAIN_ALIASES,
            "r_level",
            "r_channel",
            "r_lead",
            "r_canceller",
            "r_status",
            "r_arrived",
        )
        .order_by()
    )


def money_window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The clinic days ``start``..``end`` as moments: [midnight of ``start``, midnight after
    ``end``) in the clinic's time zone, so that a payment at 23:59 and one at 00:01 Shanghai
    time fall on their own days (a range on the indexed column, not a date cast per row)."""
    zone = timezone.get_default_timezone()
    return (
        dt.datetime.combine(start, dt.time(0), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
    )


AMOUNT = DecimalField(max_digits=14, decimal_places=2)
MONEY_GRAIN = [
    ("date", "r_date"),
    ("department_id", "r_department"),
    ("doctor_id", "r_doctor"),
    ("level_id", "r_level"),
    ("channel", "r_channel"),
]
# The columns a payment's and a refund's rows share (in this order, for their UNION ALL).
MONEY_ALIASES = [
    "r_date",
    "r_gateway",
    "r_department",
    "r_doctor",
    "r_level",
    "r_channel",
    "r_member",
    "r_payments",
    "r_paid",
    "r_discount",
    "r_refunds",
    "r_refunded",
]


def _money_grain(appointment: str, moment: str) -> dict[str, object]:
    """The grain of a payment (``appointment`` = "appointment__", ``moment`` = "paid_at") or a
    refund ("order__appointment__", "completed_at"): the clinic day the money moved and the
    appointment behind the order."""
    zone = timezone.get_default_timezone()
    return {
        "r_date": TruncDate(moment, tzinfo=zone),
        "r_department": F(f"{appointment}schedule__doctor__department_id"),
        "r_doctor": F(f"{appointment}schedule__doctor_id"),
        "r_level": level_when_booked(appointment),
        "r_channel": F(f"{appointment}channel"),
        "r_member": F(f"{appointment}member_id"),
    }


def _zero_amount() -> Value:
    return Value(Decimal("0.00"), output_field=AMOUNT)


def _payment_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per order paid on the clinic days ``start``..``end`` (by ``paid_at``): its
    amount, and the discount its level gave (fee − what the visit was charged: the amount paid,
    or for an insured visit its whole charge, the medical insurance's parts being no discount)."""
    lower, upper = money_window(start, end)
    return (
        Order.objects.filter(paid_at__gte=lower, paid_at__lt=upper)
        .annotate(
            r_gateway=F("gateway"),
            **_money_grain("appointment__", "paid_at"),
            r_payments=Value(1, output_field=IntegerField()),
            r_paid=ExpressionWrapper(F("amount"), output_field=AMOUNT),
            r_discount=ExpressionWrapper(
                F("original_amount") - Coalesce(F("insurance_claim__total"), F("amount")),
                output_field=AMOUNT,
            ),
            r_refunds=Value(0, output_field=IntegerField()),
            r_refunded=_zero_amount(),
        )
        .values(*MONEY_ALIASES)
        .order_by()
    )


def _refund_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per refund completed on the clinic days ``start``..``end`` (by
    ``completed_at``), by its own amount; not the stray payments sent straight back (they were
    never the order's: see reports.models.DailyRevenueStat)."""
    lower, upper = money_window(start, end)
    return (
        Refund.objects.filter(
            status=RefundStatus.SUCCEEDED,
            stray_trade_no="",
            completed_at__gte=lower,
            completed_at__lt=upper,
        )
        .annotate(
            r_gateway=F("order__gateway"),
            **_money_grain("order__appointment__", "completed_at"),
            r_payments=Value(0, output_field=IntegerField()),
            r_paid=_zero_amount(),
            r_discount=_zero_amount(),
            r_refunds=Value(1, output_field=IntegerField()),
            r_refunded=ExpressionWrapper(F("amount"), output_field=AMOUNT),
        )
        .values(*MONEY_ALIASES)
        .order_by()
    )


class Microseconds(Func):
    """A duration (one datetime minus another) as whole microseconds, the same number on both
    databases: PostgreSQL's interval read as seconds (exact: EXTRACT gives a numeric);
    SQLite's Django duration already is microseconds. NULL when either moment is."""

    output_field = BigIntegerField()

    def __init__(self, start: str, end: str) -> None:
        super().__init__(ExpressionWrapper(F(end) - F(start), output_field=DurationField()))

    def as_postgresql(self, compiler, connection, **extra):
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) * 1000000 AS bigint)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)


RELEASED = (ScheduleStatus.PUBLISHED, ScheduleStatus.FINISHED)


def _release_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per session of the range that was released (published or finished): its slots,
    the microseconds from its public release to its first sell-out (NULL: not sold out;
    negative: sold out before the public release) and the attempts refused as sold out."""
    refused = (
        ReleaseDemand.objects.filter(schedule=OuterRef("pk"))
        .order_by()
        .values("schedule")
        .annotate(n=Sum("refused"))
        .values("n")
    )
    return (
        Schedule.objects.filter(date__range=(start, end), status__in=RELEASED)
        .annotate(
            **_grain_of(""),
            r_capacity=F("capacity"),
            r_us=Microseconds("release_at", "sold_out_at"),
            r_refused=Coalesce(Subquery(refused), Value(0), output_field=BigIntegerField()),
        )
        .values(*GRAIN_ALIASES, "r_capacity", "r_us", "r_refused")
        .order_by()
    )


def _sell_out_sums() -> list[tuple[str, str]]:
    """The release rollup's bucket columns (reports.choices.SellOut) as sums over r_us."""
    columns = SellOut.columns()
    sums = [
        (columns[SellOut.BEFORE_RELEASE], _count("r_us < 0")),
        (columns[SellOut.NEVER], _count("r_us IS NULL")),
    ]
    lower = 0
    for bucket, seconds in SellOut.bounds():
        upper = seconds * 1_000_000
        sums.append((columns[bucket], _count(f"r_us >= {lower} AND r_us < {upper}")))
        lower = upper
    sums.append((columns[SellOut.LATER], _count(f"r_us >= {lower}")))
    return sums


FLOW_GRAIN = [
    ("date", "r_date"),
    ("weekday", "r_weekday"),
    ("department_id", "r_department"),
    ("doctor_id", "r_doctor"),
    ("hour", "r_hour"),
]


def _flow_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per appointment of the range's sessions that reached the clinic (checked in,
    called or completed): the hour of the clinic's clock it counts in (its completion, else its
    call, else its check-in), the microseconds from check-in to call and from call to
    completion (NULL where a time is missing)."""
    zone = timezone.get_default_timezone()
    moment = Coalesce("completed_at", "called_at", "checked_in_at")
    return (
        Appointment.objects.filter(schedule__date__range=(start, end))
        .filter(
            Q(checked_in_at__isnull=False)
            | Q(called_at__isnull=False)
            | Q(completed_at__isnull=False)
        )
        .annotate(
            r_date=F("schedule__date"),
            r_weekday=ExtractIsoWeekDay("schedule__date") - 1,
            r_department=F("schedule__doctor__department_id"),
            r_doctor=F("schedule__doctor_id"),
            r_hour=ExtractHour(moment, tzinfo=zone),
            r_arrived=Case(
                When(checked_in_at__isnull=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            r_wait=Microseconds("checked_in_at", "called_at"),
            r_visit=Microseconds("called_at", "completed_at"),
            r_status=F("status"),
        )
        .values(*(alias for _c, alias in FLOW_GRAIN), "r_arrived", "r_wait", "r_visit", "r_status")
        .order_by()
    )


def _insert_grouped(
    cursor,
    *,
    table: str,
    rows: QuerySet,
    keys: list[tuple[str, str]],
    sums: list[tuple[str, str]],
    where: str = "",
) -> int:
    """``INSERT INTO table (…) SELECT keys, sums FROM (rows) [WHERE where] GROUP BY keys``:
    ``keys`` and ``sums`` pair a column of ``table`` with an expression over ``rows``' aliases;
    ``where`` (over the same aliases) keeps some of the rows."""
    inner, params = rows.query.get_compiler(using=cursor.db.alias).as_sql()
    quote = cursor.db.ops.quote_name
    columns = ", ".join(quote(column) for column, _expr in keys + sums)
    group = ", ".join(expr for _column, expr in keys)
    selected = ", ".join(expr for _column, expr in keys + sums)
    condition = f" WHERE {where}" if where else ""
    cursor.execute(
        f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608 (names are ours, values params)
        f"SELECT {selected} FROM ({inner}) r{condition} GROUP BY {group}",
        params,
    )
    return cursor.rowcount


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# -- members: new members, level changes, points, active members ------------------------------


def day_window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The clinic days ``start``..``end`` as moments: from midnight of the first day to midnight
    after the last, in the clinic's time zone (a sign-up at 23:59 belongs to its own day)."""
    zone = timezone.get_default_timezone()
    return (
        dt.datetime.combine(start, dt.time(0), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
    )


def _local_date(moment: str) -> TruncDate:
    return TruncDate(moment, tzinfo=timezone.get_default_timezone())


def first_level(member: str) -> Subquery:
    """The level of the member's first history row (by time, then id): the level they joined
    at when they signed up through MedBook; ``member`` is the path to the member's id."""
    history = Member.history.model.objects.filter(id=OuterRef(member))
    return Subquery(history.order_by("history_date", "history_id").values("level_id")[:1])


def level_at(*, member: str, moment: str, current: str) -> Coalesce:
    """The member's level at ``moment``: the level of their last history row written at or
    before it; before their first row, that row's level (the earliest one known); with no
    history at all (rows loaded in bulk), their level now (the column at ``current``). The same
    rule gives the level they joined at, so that the level mix, the points by level and the
    active members by level agree."""
    history = Member.history.model.objects.filter(
        id=OuterRef(member), history_date__lte=OuterRef(moment)
    ).order_by("-history_date", "-history_id")
    return Coalesce(
        Subquery(history.values("level_id")[:1]),
        first_level(member),
        F(current),
        output_field=IntegerField(),
    )


def _signup_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per member who registered on the range's days, with the level they joined at."""
    return (
        Member.objects.filter(registered_at__range=_half_open(start, end))
        .annotate(
            r_date=_local_date("registered_at"),
            r_level=Coalesce(first_level("id"), F("level_id"), output_field=IntegerField()),
        )
        .values("r_date", "r_level")
        .order_by()
    )


def _half_open(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``__range`` bounds of the days: midnight of ``start`` to a microsecond before midnight
    after ``end`` (``__range`` is inclusive at both ends)."""
    first, after = day_window(start, end)
    return first, after - dt.timedelta(microseconds=1)


def _level_change_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per history row of a member written on the range's days, with the level of the
    row before it (by time, then id; none for a member's first row) and its own level."""
    history = Member.history.model.objects
    before = history.filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")),
        id=OuterRef("id"),
    ).order_by("-history_date", "-history_id")
    return (
        history.filter(history_date__range=_half_open(start, end))
        .annotate(
            r_date=_local_date("history_date"),
            r_from=Subquery(before.values("level_id")[:1]),
            r_to=F("level_id"),
        )
        .values("r_date", "r_from", "r_to")
        .order_by()
    )


def _points_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per ledger entry of the range's days, with the member's level at its time."""
    return (
        PointsEntry.objects.filter(created_at__range=_half_open(start, end))
        .annotate(
            r_date=_local_date("created_at"),
            r_level=level_at(member="member_id", moment="created_at", current="member__level_id"),
            r_reason=F("reason"),
            r_delta=F("delta"),
        )
        .values("r_date", "r_level", "r_reason", "r_delta")
        .order_by()
    )


ACTIVITY = ["r_date", "r_member", "r_level", "r_department", "r_doctor", "r_channel"]


def _activity_rows(start: dt.date, end: dt.date) -> QuerySet:
    """One row per appointment made on the range's days (``created_at``, the level then) and
    one per visit to a session of those days (checked in: the level at check-in)."""

    def rows(appointments: QuerySet, *, moment: str, day, booked: int) -> QuerySet:
        return (
            appointments.annotate(
                r_date=day,
                r_member=F("member_id"),
                r_level=level_at(member="member_id", moment=moment, current="member__level_id"),
                r_department=F("schedule__doctor__department_id"),
                r_doctor=F("schedule__doctor_id"),
                r_channel=F("channel"),
                r_booked=Value(booked, output_field=IntegerField()),
                r_visited=Value(1 - booked, output_field=IntegerField()),
            )
            .values(*ACTIVITY, "r_booked", "r_visited")
            .order_by()
        )

    made = rows(
        Appointment.objects.filter(created_at__range=_half_open(start, end)),
        moment="created_at",
        day=_local_date("created_at"),
        booked=1,
    )
    visited = rows(
        Appointment.objects.filter(schedule__date__range=(start, end), checked_in_at__isnull=False),
        moment="checked_in_at",
        day=F("schedule__date"),
        booked=0,
    )
    return made.union(visited, all=True)


def _rebuild_members(cursor, *, start: dt.date, end: dt.date, using: str) -> int:
    """The members' four rollups of the days ``start``..``end``: deleted, then each filled by
    one ``INSERT … SELECT … GROUP BY`` (inside the caller's transaction and lock)."""
    for model in (DailyMemberStat, DailyLevelChange, DailyPointsStat, DailyActiveMember):
        model.objects.using(using).filter(date__range=(start, end)).delete()
    rows = _insert_grouped(
        cursor,
        table=DailyMemberStat._meta.db_table,
        rows=_signup_rows(start, end),
        keys=[("date", "r_date"), ("level_id", "r_level")],
        sums=[("signups", "COUNT(*)")],
    )
    rows += _insert_grouped(
        cursor,
        table=DailyLevelChange._meta.db_table,
        rows=_level_change_rows(start, end),
        keys=[("date", "r_date"), ("from_level_id", "r_from"), ("to_level_id", "r_to")],
        sums=[("changes", "COUNT(*)")],
        where="r_from IS NOT NULL AND r_from <> r_to",
    )
    rows += _insert_grouped(
        cursor,
        table=DailyPointsStat._meta.db_table,
        rows=_points_rows(start, end),
        keys=[("date", "r_date"), ("level_id", "r_level"), ("reason", "r_reason")],
        sums=[
            ("points_added", "SUM(CASE WHEN r_delta > 0 THEN r_delta ELSE 0 END)"),
            ("points_taken", "SUM(CASE WHEN r_delta < 0 THEN -r_delta ELSE 0 END)"),
            ("entries", "COUNT(*)"),
        ],
    )
    rows += _insert_grouped(
        cursor,
        table=DailyActiveMember._meta.db_table,
        rows=_activity_rows(start, end),
        keys=[
            ("date", "r_date"),
            ("member_id", "r_member"),
            ("level_id", "r_level"),
            ("department_id", "r_department"),
            ("doctor_id", "r_doctor"),
            ("channel", "r_channel"),
        ],
        sums=[("bookings", "SUM(r_booked)"), ("visits", "SUM(r_visited)")],
    )
    return rows


def rebuild_rollups(
    *, start: dt.date, end: dt.date, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS
) -> RebuildResult:
    """Recompute the rollups of the clinic days ``start``..``end`` (inclusive) from the raw rows.

    Idempotent, and safe beside another rebuild: both take the lock row first. Readers see the
    old figures until the new ones are committed."""
    if end < start:
        raise BadRange()
    now = now or timezone.now()
    cancelled = f"'{AppointmentStatus.CANCELLED.value}'"
    no_show = f"'{AppointmentStatus.NO_SHOW.value}'"
    completed = f"'{AppointmentStatus.COMPLETED.value}'"
    with transaction.atomic(using=using):
        state, _created = RollupState.objects.using(using).select_for_update().get_or_create(pk=1)
        for model in ROLLUPS:
            model.objects.using(using).filter(date__range=(start, end)).delete()
        with connections[using].cursor() as cursor:
            session_rows = _insert_grouped(
                cursor,
                table=DailySessionStat._meta.db_table,
                rows=_session_rows(start, end),
                keys=GRAIN,
                sums=[
                    ("sessions", "SUM(1 - r_suspended)"),
                    ("capacity", "SUM(r_capacity * (1 - r_suspended))"),
                    ("suspended_sessions", "SUM(r_suspended)"),
                ],
            )
            booking_rows = _insert_grouped(
                cursor,
                table=DailyBookingStat._meta.db_table,
                rows=_booking_rows(start, end),
                keys=[
                    *GRAIN,
                    ("level_id", "r_level"),
                    ("channel", "r_channel"),
                    ("lead_time", "r_lead"),
                ],
                sums=[
                    ("booked", _count(f"r_status <> {cancelled}")),
                    ("cancelled", _count(f"r_status = {cancelled}")),
                    ("no_show", _count(f"r_status = {no_show}")),
                    ("checked_in", "SUM(r_arrived)"),
                    ("completed", _count(f"r_status = {completed}")),
                    ("cancelled_by_member", _count(f"r_canceller = {Canceller.MEMBER:d}")),
                    ("cancelled_by_staff", _count(f"r_canceller = {Canceller.STAFF:d}")),
                    ("cancelled_hold_expired", _count(f"r_canceller = {Canceller.HOLD_EXPIRED:d}")),
                    ("cancelled_suspended", _count(f"r_canceller = {Canceller.SUSPENDED:d}")),
                ],
            )
            revenue_rows = _insert_grouped(
                cursor,
                table=DailyRevenueStat._meta.db_table,
                rows=_payment_rows(start, end).union(_refund_rows(start, end), all=True),
                keys=[*MONEY_GRAIN, ("gateway", "r_gateway")],
                sums=[
                    ("payments", "SUM(r_payments)"),
                    ("paid", "SUM(r_paid)"),
                    ("discount", "SUM(r_discount)"),
                    ("refunds", "SUM(r_refunds)"),
                    ("refunded", "SUM(r_refunded)"),
                ],
            )
            payer_rows = _insert_grouped(
                cursor,
                table=DailyPayerStat._meta.db_table,
                rows=_payment_rows(start, end),
                keys=[*MONEY_GRAIN, ("member_id", "r_member")],
                sums=[("payments", "SUM(r_payments)")],
            )
            release_rows = _insert_grouped(
                cursor,
                table=DailyReleaseStat._meta.db_table,
                rows=_release_rows(start, end),
                keys=GRAIN,
                sums=[
                    ("released", "COUNT(*)"),
                    ("capacity", "SUM(r_capacity)"),
                    ("sold_out", _count("r_us IS NOT NULL")),
                    *_sell_out_sums(),
                    ("sold_out_after_us", "SUM(CASE WHEN r_us >= 0 THEN r_us ELSE 0 END)"),
                    ("refused", "SUM(r_refused)"),
                    ("sessions_refusing", _count("r_refused > 0")),
                ],
            )
            flow_rows = _insert_grouped(
                cursor,
                table=DailyFlowStat._meta.db_table,
                rows=_flow_rows(start, end),
                keys=FLOW_GRAIN,
                sums=[
                    ("arrived", "SUM(r_arrived)"),
                    ("waited", _count("r_wait >= 0")),
                    ("wait_us", "SUM(CASE WHEN r_wait >= 0 THEN r_wait ELSE 0 END)"),
                    ("seen", _count("r_visit >= 0")),
                    ("visit_us", "SUM(CASE WHEN r_visit >= 0 THEN r_visit ELSE 0 END)"),
                    ("completed", _count(f"r_status = {completed}")),
                ],
            )
            member_rows = _rebuild_members(cursor, start=start, end=end, using=using)
        RollupState.objects.using(using).filter(pk=state.pk).update(
            refreshed_at=now, first_day=start, last_day=end
        )
    return RebuildResult(
        first_day=start,
        last_day=end,
        session_rows=session_rows,
        booking_rows=booking_rows,
        revenue_rows=revenue_rows,
        payer_rows=payer_rows,
        release_rows=release_rows,
        flow_rows=flow_rows,
        member_rows=member_rows,
    )


# One transaction per chunk of days: a year at a million appointments never holds one huge
# transaction, and the pages keep reading the figures already there meanwhile.
CHUNK_DAYS = 31


def rebuild_range(
    *, start: dt.date, end: dt.date, now: dt.datetime | None = None, chunk_days: int = CHUNK_DAYS
) -> RebuildResult:
    """:func:`rebuild_rollups` over a long range, ``chunk_days`` days per transaction."""
    if end < start:
        raise BadRange()
    sessions = bookings = revenue = payers = releases = flows = members = 0
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=chunk_days - 1))
        result = rebuild_rollups(start=day, end=last, now=now)
        sessions += result.session_rows
        bookings += result.booking_rows
        revenue += result.revenue_rows
        payers += result.payer_rows
        releases += result.release_rows
        flows += result.flow_rows
        members += result.member_rows
        day = last + dt.timedelta(days=1)
    return RebuildResult(
        first_day=start,
        last_day=end,
        session_rows=sessions,
        booking_rows=bookings,
        revenue_rows=revenue,
        payer_rows=payers,
        release_rows=releases,
        flow_rows=flows,
        member_rows=members,
    )


def recent_range(*, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The clinic days the periodic refresh recomputes: the last ``MEDBOOK_REPORTS_DAYS_BACK``
    days (visits completed, no-shows swept, late cancellations) up to the last day that has
    sessions (bookings ahead), at most ``MEDBOOK_REPORTS_DAYS_AHEAD`` days from today — today
    being the clinic's date (Asia/Shanghai), not UTC's.

    The money rollups need no wider window, because they are kept by the day the money moved,
    and money only moves on recent days: a payment's ``paid_at`` is within the unpaid hold
    (minutes) before MedBook records it (a later one is sent back, never paid), and a refund's
    ``completed_at`` is the moment MedBook records it. A refund completing months after its
    session therefore lands on today, which the window always holds; widening it to the
    sessions' age would rebuild months of unchanged days at every run. Days missed while the
    job did not run are rebuilt by the ``rebuild_reports`` command."""
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=settings.MEDBOOK_REPORTS_DAYS_BACK)
    horizon = today + dt.timedelta(days=settings.MEDBOOK_REPORTS_DAYS_AHEAD)
    last = (
        Schedule.objects.filter(date__gte=today, date__lte=horizon)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    return start, max(today, last or today)


def refresh_recent_rollups(*, now: dt.datetime | None = None) -> RebuildResult:
    """The periodic job's work: rebuild only the recent days (see :func:`recent_range`)."""
    now = now or timezone.now()
    start, end = recent_range(now=now)
    return rebuild_rollups(start=start, end=end, now=now)


def raw_date_range() -> tuple[dt.date, dt.date] | None:
    """The first and last day a full rebuild covers: the days that have sessions, widened by
    the money (paid on booking days before a session, refunded after it), the first member's
    registration and the points entries (members join, and opening balances are loaded, before
    the clinic's first session); None when there is nothing."""
    dates = Schedule.objects.order_by("date").values_list("date", flat=True)
    days = [d for d in (dates.first(), dates.last()) if d is not None]
    for found in (
        Order.objects.aggregate(first=Min("paid_at"), last=Max("paid_at")),
        Refund.objects.aggregate(first=Min("completed_at"), last=Max("completed_at")),
        Member.objects.aggregate(first=Min("registered_at"), last=Max("registered_at")),
        PointsEntry.objects.aggregate(first=Min("created_at"), last=Max("created_at")),
    ):
        days += [timezone.localdate(m) for m in found.values() if m is not None]
    if not days:
        return None
    return min(days), max(days)
