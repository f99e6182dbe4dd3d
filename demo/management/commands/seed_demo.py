"""Load the demo clinic: departments, doctors, schedules, members, appointments and points.

Deterministic (seeded), idempotent (a second run adds nothing but schedules for new dates) and
built on bulk inserts, so the same command fills a benchmark database with 100k members and a
million appointments. Every invariant of the design holds for what it writes: schedule counters
equal their active appointments, queue numbers are unique, members stay within their level's
limits and every points balance equals its ledger.

The rows are written in bulk, but their values come from the apps' own rules: sessions from
``appointments.services.scheduling.session_from_template`` (times, capacity, fee, release time;
holidays closed), booking and cancelling times from the booking rules (``opens_at_for``,
``cancellation_cutoff``), amounts and points from ``medbook.money`` (``payable``,
``points_for``), levels from ``members.selectors.level_by_rule``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import math
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from appointments import catalogue_cache
from appointments.choices import (
    ACTIVE_STATUSES,
    UPCOMING_STATUSES,
    AppointmentStatus,
    Channel,
    ScheduleStatus,
)
from appointments.models import (
    Appointment,
    Department,
    Doctor,
    Holiday,
    ReleaseDemand,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
    WaitlistEntry,
)
from appointments.selectors import cancellation_cutoff, opens_at_for
from appointments.services.release_demand import backfill_sold_out_at
from appointments.services.scheduling import session_from_template
from billing.choices import Gateway, OrderStatus, RefundStatus
from billing.models import InsurancePlan, Order, Refund, SandboxRefund, SandboxTrade
from billing.services.orders import EXPIRED_HOLD_REASON
from demo import activity, agreements, data
from demo.data import DEMO_MEMBER_PASSWORD
from medbook import money
from medbook.models import ClinicProfile
from medbook.personal_data import national_id_check_char
from medbook.roles import FRONT_DESK
from members.models import (
    Agreement,
    Gender,
    IdType,
    InsuranceCard,
    InsuranceType,
    InsurerChoice,
    Member,
    MemberLevel,
    Patient,
    PointsEntry,
    PointsReason,
    Relation,
    User,
)
from members.selectors import NOT_QUALIFYING, level_by_rule
from records.services import RecordText, amend_record, write_record
from reports import services as report_services

DEMO_USER_PREFIX = "demo-"
CHANNELS = [str(value) for value in Channel.values]
CHANNEL_WEIGHTS = [70, 15, 10, 5]
BATCH = 5000
DEMO_MEMBER_VISITS = 3  # completed visits of 13800000000, each with a doctor's record
# How a cancelled demo appointment was cancelled (the reports tell them apart the same way).
BY_MEMBER, HOLD_EXPIRED, BY_STAFF = "member", "hold", "staff"
# Bookings paid at the front desk's till; the others through the online (sandbox) cashier.
AT_THE_DESK = {Channel.FRONT_DESK.value, Channel.WALK_IN.value}
REFUND_COLUMNS = (
    "order_id",
    "out_refund_no",
    "amount",
    "reason",
    "status",
    "gateway_refund_no",
    "stray_trade_no",
    "requested_by_id",
    "created_at",
    "completed_at",
    "attempts",
    "last_attempt_at",
    "last_error",
)
SANDBOX_REFUND_COLUMNS = ("trade_id", "out_refund_no", "refund_no", "amount", "refunded_at")
# The member's columns their history rows copy as they were at registration.
HISTORY_FIELDS = (
    "id",
    "user_id",
    "name",
    "phone",
    "phone_verified",
    "national_id",
    "gender",
    "birth_date",
    "registered_at",
)


def _aware_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {value!r}") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class AppointmentRow(NamedTuple):
    """One appointment, in the column order of its table (written by COPY on PostgreSQL)."""

    id: int
    member_id: int
    schedule_id: int
    queue_number: int
    estimated_time: dt.time
    status: str
    channel: str
    fee: Decimal
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str
    cancelled_by_id: int | None
    called_at: dt.datetime | None
    no_show_at: dt.datetime | None
    staff_note: str
    patient_id: int


ORDER_COLUMNS = (
    "appointment_id",
    "member_id",
    "out_trade_no",
    "gateway",
    "original_amount",
    "discount_rate",
    "amount",
    "refunded_amount",
    "status",
    "gateway_trade_no",
    "created_at",
    "expires_at",
    "paid_at",
    "closed_at",
)
SANDBOX_TRADE_COLUMNS = (
    "trade_no",
    "out_trade_no",
    "amount",
    "paid_at",
    "notify_attempts",
    "notified_at",
)
LEDGER_COLUMNS = (
    "member_id",
    "delta",
    "balance_after",
    "reason",
    "note",
    "reference",
    "created_at",
)


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert plain rows fast: COPY on PostgreSQL, bulk_create elsewhere.

    Only for models without computed fields (no encryption, no blind index).
    """
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(tuple(Jsonb(v) if isinstance(v, dict) else v for v in row))
        return
    objects = (model(**dict(zip(columns, row, strict=True))) for row in rows)
    while batch := list(itertools.islice(objects, BATCH)):
        model.objects.bulk_create(batch)


@dataclass
class DemoMember:
    pk: int
    user_id: int
    level: int
    registered_at: dt.datetime
    upcoming: int = 0


# Every member is the holder patient (本人) of their account: made from the members' rows in one
# statement, the ID number copied as stored (patients' ID numbers use the members' key purpose),
# as the migration that introduced patients did.
HOLDERS_SQL = """
    INSERT INTO members_patient (member_id, name, relation, id_type, id_number,
        id_number_index, gender, birth_date, phone, guardian_name, guardian_id_number,
        created_at)
    SELECT m.id, m.name, 'self', 'resident', m.national_id, m.national_id_index,
        m.gender, m.birth_date, '', '', '', m.registered_at
    FROM members_member m
    WHERE NOT EXISTS (
        SELECT 1 FROM members_patient p WHERE p.member_id = m.id AND p.relation = 'self'
    )
"""
# One demo family in this many gets a child, a parent, or both (就诊人 beyond the holder).
FAMILY_EVERY = 12
# The share of a family's bookings that are for a relative rather than the holder.
FOR_RELATIVE_SHARE = 0.3
CHILD_GIVEN = ["小明", "小红", "子涵", "梓轩", "一诺", "欣怡", "浩然", "雨萱", "若曦", "天佑"]


def split_minutes(doctor_name: str) -> int:
    """About a third of the doctors (never the doctor login's) split their sessions into
    30-minute time slots (分时段) that members choose from; decided by the name, so the random
    stream, and the rest of the demo, stay as they were."""
    if doctor_name == data.DEMO_DOCTOR:
        return 0
    return 30 if zlib.crc32(doctor_name.encode()) % 3 == 0 else 0


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent). Sizes are options, for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--members",
            type=int,
            default=500,
            help="demo members (500), plus one in 25 who signed up lately",
        )
        parser.add_argument(
            "--appointments", type=int, default=3000, help="appointments to spread (3000)"
        )
        parser.add_argument("--days", type=int, default=14, help="days of future schedules (14)")
        parser.add_argument(
            "--history-days",
            type=int,
            default=21,
            help="days of past schedules; grows by itself when the appointments need room (21)",
        )
        parser.add_argument("--seed", type=int, default=20261124)
        parser.add_argument(
            "--now",
            type=_aware_datetime,
            help="pretend it is this moment (ISO 8601, clinic time if no offset), e.g. to show "
            "sessions running and patients checked in",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.started = time.monotonic()
        self.rng = random.Random(options["seed"])
        self.rng_seed = options["seed"]
        # What later versions of the demo added (who cancelled, suspensions after booking,
        # redemptions) is drawn from a second stream, so the first one's draws, and the demo's
        # appointments, stay as they were.
        self.more = random.Random(options["seed"] + 1)
        self.now = options.get("now") or timezone.now()
        self.today = timezone.localdate(self.now)
        self.no_show_grace = dt.timedelta(minutes=settings.MEDBOOK_NO_SHOW_GRACE_MINUTES)
        self.hold = dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES)
        levels = self.levels = self.load_levels()
        self.load_clinic_rules()
        agreements_new = self.load_agreements()
        doctors = self.load_departments_and_doctors()
        templates = self.load_templates(doctors)
        daily_slots = sum(t.capacity for t in templates) / 7 or 1
        history_days = max(
            options["history_days"], math.ceil(options["appointments"] * 1.4 / daily_slots)
        )
        self.load_schedules(templates, history_days=history_days, days=options["days"])
        if User.objects.filter(username=f"{DEMO_USER_PREFIX}{0:07d}").exists():
            self.say("Demo members are already loaded; members and appointments left as they are.")
        else:
            members = self.load_members(options["members"], levels, history_days)
            self.load_patients(members)
            self.load_appointments(members, levels, options["appointments"])
            self.load_orders(members, levels)
            self.load_points(members, levels)
            self.load_activity()
            self.load_no_show_pauses(members)
            self.load_recent_members(options["members"], levels, history_days)
            self.load_holders()  # the recent members' own patient records
            self.load_visit_records()
            # Loaded in bulk, no booking took the last slot: when each session first sold out
            # is derived from its appointments, as the migration that added it did.
            self.say(f"Sessions sold out: {backfill_sold_out_at()}")
            self.load_release_demand()
            self.say(f"Members on a waitlist: {self.load_waitlist()}")
            self.analyze()
        if agreements_new:
            self.say(f"Demo members' consents: {self.load_consents()}")
        self.load_insurance()
        self.load_report_rollups()
        catalogue_cache.catalogue_changed()  # rows written by COPY sent no signal
        self.say("Demo clinic ready.")

    def load_insurance(self) -> None:
        """The sandbox insurer's plans (职工医保 70 %, half the rest from the personal account;
        居民医保 50 % after a 100 yuan yearly deductible), and insurance cards for the first
        demo member (13800000000) and their family, and for one holder in seven. Idempotent."""
        plans = {
            InsuranceType.EMPLOYEE: ("0.70", "0.00", "3000.00", "0.50"),
            InsuranceType.RESIDENT: ("0.50", "100.00", "1500.00", "0.00"),
        }
        for kind, (ratio, deductible, cap, personal) in plans.items():
            InsurancePlan.objects.get_or_create(
                insurance_type=kind,
                defaults={
                    "ratio": Decimal(ratio),
                    "deductible": Decimal(deductible),
                    "annual_cap": Decimal(cap),
                    "personal_account_ratio": Decimal(personal),
                },
            )
        first = Member.objects.filter(user__username=f"{DEMO_USER_PREFIX}{0:07d}").first()
        insured = list(Patient.objects.filter(member=first)) if first else []
        holders = Patient.objects.filter(relation=Relation.SELF).order_by("pk")
        insured += [p for p in holders.only("pk", "member_id", "relation") if p.pk % 7 == 0]
        cards = [
            InsuranceCard(
                patient_id=patient.pk,
                insurance_type=InsuranceType.EMPLOYEE
                if patient.relation == Relation.SELF
                else InsuranceType.RESIDENT,
                insurer=InsurerChoice.SANDBOX,
                region="北京市",
                card_number=f"BJ{patient.pk:010d}",
                created_at=self.now,
            )
            for patient in insured
        ]
        InsuranceCard.objects.bulk_create(cards, batch_size=BATCH, ignore_conflicts=True)
        self.say(f"Patients with a medical insurance card: {InsuranceCard.objects.count()}")

    def load_agreements(self) -> bool:
        """The first version of the clinic's 《用户协议》, 《隐私政策》 and sensitive-information
        consent, published a year ago (the demo's members signed up under them). True when
        they were added now."""
        published = self.now - dt.timedelta(days=365)
        added = False
        for kind, title, body in agreements.AGREEMENTS:
            _row, created = Agreement.objects.get_or_create(
                kind=kind,
                version=agreements.VERSION,
                defaults={"title": title, "body": body, "published_at": published},
            )
            added = added or created
        return added

    def load_consents(self) -> int:
        """Every demo member accepted the three documents when they signed up (one statement:
        the 1M demo has three million of them)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO members_consent "
                "(user_id, agreement_id, kind, version, accepted_at, ip) "
                "SELECT m.user_id, a.id, a.kind, a.version, m.registered_at, NULL "
                "FROM members_member m CROSS JOIN members_agreement a "
                "WHERE a.version = %s "
                "ON CONFLICT DO NOTHING",
                [agreements.VERSION],
            )
            return cursor.rowcount

    def load_activity(self) -> None:
        """Messages, operation log and the appointments' history (demo/activity.py)."""
        counts = activity.load_activity(
            appointments=self.appointments, clerk_id=self.clerk_id, now=self.now, insert=insert_rows
        )
        self.say(
            f"{counts.messages} messages, {counts.operations} operation-log rows, "
            f"{counts.history} appointment history rows"
        )

    def load_release_demand(self) -> None:
        """What the release gate would have counted: members turned away as sold out by the
        sessions that sold out, from none to three times their slots."""
        rows = [
            ReleaseDemand(
                schedule_id=pk,
                counted_from=sold_out_at,
                refused=self.rng.randint(0, 3 * capacity),
                copied_at=sold_out_at,
            )
            for pk, sold_out_at, capacity in Schedule.objects.filter(
                sold_out_at__isnull=False
            ).values_list("pk", "sold_out_at", "capacity")
        ]
        ReleaseDemand.objects.bulk_create(rows, batch_size=5000)
        self.say(f"Refusals 'sold out' of {len(rows)} sessions")

    def load_waitlist(self, waiting: int = 3) -> int:
        """候补: a few members wait for the last fully booked session that is open to the public
        (王建国's sell out), the higher levels first in line. The earlier full sessions (at
        least one) have nobody waiting, so a demo member who joins one is first for the slot a
        cancellation frees."""
        local = timezone.localtime(self.now)
        full = [
            schedule
            for schedule in Schedule.objects.filter(
                status=ScheduleStatus.PUBLISHED, release_at__lte=self.now, date__gt=local.date()
            ).order_by("-date", "-start_time")
            if schedule.remaining == 0
        ]
        if len(full) < 2:
            return 0  # the one full session stays free of a queue for the demo's own member
        schedule = full[0]
        booked = set(
            schedule.appointments.filter(status__in=ACTIVE_STATUSES).values_list(
                "member_id", flat=True
            )
        )
        holders = list(
            Patient.objects.filter(relation=Relation.SELF)
            .exclude(member_id__in=booked)
            .order_by("pk")
            .values_list("pk", "member_id")[:200]
        )
        chosen = self.more.sample(holders, min(waiting, len(holders)))
        WaitlistEntry.objects.bulk_create(
            WaitlistEntry(
                member_id=member_id,
                patient_id=patient_id,
                doctor_id=schedule.doctor_id,
                schedule=schedule,
                date_from=schedule.date,
                date_to=schedule.date,
                joined_at=self.now - dt.timedelta(hours=self.more.randint(1, 48)),
            )
            for patient_id, member_id in chosen
        )
        return len(chosen)

    def analyze(self) -> None:
        """Fresh statistics for PostgreSQL's planner: without them, right after a bulk load, it
        plans the rollups' correlated look-ups (a member's previous history row) as scans of
        the whole table — a month of the 1M clinic's level changes took minutes, not 60 ms."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.say("Planner statistics refreshed (ANALYZE)")

    def load_report_rollups(self) -> None:
        """The reports' daily figures of every demo day (the beat job keeps the recent ones)."""
        known = report_services.raw_date_range()
        if known is None:
            return
        result = report_services.rebuild_range(start=known[0], end=known[1], now=self.now)
        self.say(
            f"Report figures of {known[0]}..{known[1]}: {result.session_rows} session rows, "
            f"{result.booking_rows} booking rows, {result.revenue_rows} revenue rows, "
            f"{result.payer_rows} payer rows, {result.release_rows} release rows, "
            f"{result.flow_rows} flow rows"
        )

    def say(self, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:6.1f} s] {message}")

    # -- reference data -----------------------------------------------------------------------

    def load_levels(self) -> dict[int, MemberLevel]:
        levels = {}
        for (
            level,
            name,
            points,
            lead,
            late,
            rate,
            active,
            multiplier,
            moves,
            monthly,
        ) in data.LEVELS:
            levels[level], _ = MemberLevel.objects.update_or_create(
                level=level,
                defaults={
                    "name": name,
                    "name_en": data.LEVEL_NAMES_EN.get(level, ""),
                    "min_points": points,
                    "booking_lead_hours": lead,
                    "can_cancel_late": late,
                    "discount_rate": Decimal(rate),
                    "max_active_appointments": active,
                    "points_multiplier": Decimal(multiplier),
                    "reschedules_per_booking": moves,
                    "reschedules_per_month": monthly,
                },
            )
        return levels

    def load_clinic_rules(self) -> None:
        """放号 7 days ahead at 08:00, the fee of each title, the public holidays ahead, the
        clinic's contact details."""
        ClinicProfile.objects.get_or_create(pk=1, defaults=data.CLINIC)
        # A demo seeded before the English details existed gets them (only where none is set).
        english = {key: value for key, value in data.CLINIC.items() if key.endswith("_en")}
        ClinicProfile.objects.filter(pk=1, name_en="", address_en="", hours_en="").update(**english)
        ReleaseRule.objects.get_or_create(
            pk=1,
            defaults={"days_ahead": data.RELEASE_DAYS_AHEAD, "release_time": data.RELEASE_TIME},
        )
        for title, fee in data.TITLE_FEES.items():
            TitleFee.objects.get_or_create(title=title, defaults={"fee": Decimal(fee)})
        for day, name in data.HOLIDAYS:
            if day >= self.today:
                Holiday.objects.get_or_create(date=day, defaults={"name": name})

    def load_departments_and_doctors(self) -> list[Doctor]:
        doctors = []
        for order, (code, name, location, description, staff) in enumerate(data.DEPARTMENTS):
            name_en, aliases = data.DEPARTMENT_NAMES[code]
            department, _ = Department.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "name_en": name_en,
                    "aliases": aliases,
                    "location": location,
                    "location_en": data.LOCATIONS_EN.get(location, ""),
                    "description": description,
                    "sort_order": order,
                },
            )
            for doctor_name, title, fee, specialties in staff:
                low, high = data.YEARS_BY_TITLE[title]
                rng = random.Random(f"{doctor_name}{title}")
                education, education_en = rng.choice(data.EDUCATION)
                years = rng.randint(low, high)
                introduction = (
                    f"{data.TITLE_LABEL[title]}，{education}，"
                    f"从事{name}临床工作{years}年。擅长{specialties}。"
                )
                specialties_en = data.SPECIALTIES_EN.get(specialties, "")
                introduction_en = (
                    f"{data.TITLE_LABEL_EN[title]}, {education_en}; {years} years in {name_en}."
                    + (f" Specialties: {specialties_en}." if specialties_en else "")
                )
                doctor, _ = Doctor.objects.update_or_create(
                    name=doctor_name,
                    department=department,
                    defaults={
                        "title": title,
                        "registration_fee": Decimal(fee),
                        "specialties": specialties,
                        "specialties_en": specialties_en,
                        "name_en": data.name_in_pinyin(doctor_name),
                        "introduction": introduction,
                        "introduction_en": introduction_en,
                        # Senior doctors see an extra patient at the desk's request (加号).
                        "allows_extra_numbers": title == data.CHIEF,
                    },
                )
                doctors.append(doctor)
        self.say(f"{len(data.DEPARTMENTS)} departments, {len(doctors)} doctors")
        return doctors

    def load_templates(self, doctors: list[Doctor]) -> list[ScheduleTemplate]:
        templates = []
        for doctor in doctors:
            rng = random.Random(f"template-{doctor.name}")
            count = rng.randint(2, 5)
            slots = rng.sample([(d, s) for d in range(7) for s in ("morning", "afternoon")], count)
            if rng.random() < 0.2:
                slots.append((rng.randint(0, 4), "evening"))
            if doctor.name == data.DEMO_DOCTOR:  # the doctor login's: a queue every day
                slots = [(d, s) for d in range(7) for s in ("morning", "afternoon")]
            for weekday, session in slots:
                start, end = data.SESSIONS[session]
                length = 210 if session != "evening" else 150
                capacity = rng.choice([8, 10, 12, 15, 20])
                template, _ = ScheduleTemplate.objects.get_or_create(
                    doctor=doctor,
                    weekday=weekday,
                    session=session,
                    defaults={
                        "start_time": dt.time.fromisoformat(start),
                        "end_time": dt.time.fromisoformat(end),
                        "capacity": capacity,
                        "minutes_per_visit": max(5, length // capacity),
                        "slot_minutes": split_minutes(doctor.name),
                        "room": (room := rng.choice(data.ROOMS)),
                        "room_en": data.ROOMS_EN[room],
                    },
                )
                templates.append(template)
        self.say(f"{len(templates)} weekly templates")
        return templates

    def load_schedules(
        self, templates: list[ScheduleTemplate], *, history_days: int, days: int
    ) -> None:
        """The sessions the templates give (as ``generate_schedules`` makes them: same times,
        fee and release time, no session on a holiday), for past dates too, in the state the
        release and end-of-day jobs would have left them in."""
        first = self.today - dt.timedelta(days=history_days)
        existing = set(
            Schedule.objects.filter(date__gte=first).values_list("doctor_id", "date", "start_time")
        )
        holidays = set(Holiday.objects.filter(date__gte=first).values_list("date", flat=True))
        rule = ReleaseRule.current()
        by_weekday = defaultdict(list)
        for template in templates:
            if template.is_active and template.doctor.is_active:
                by_weekday[template.weekday].append(template)
        rows = []
        for offset in range(-history_days, days):
            date = self.today + dt.timedelta(days=offset)
            if date in holidays:
                continue
            for template in by_weekday[date.weekday()]:
                if (template.doctor_id, date, template.start_time) in existing:
                    continue
                schedule = session_from_template(template=template, day=date, rule=rule)
                schedule.status = (
                    ScheduleStatus.FINISHED if date < self.today else ScheduleStatus.PUBLISHED
                )
                rows.append(schedule)
        with transaction.atomic():
            Schedule.objects.bulk_create(rows, batch_size=BATCH)
            future = [s for s in rows if s.date > self.today + dt.timedelta(days=1)]
            for schedule in self.rng.sample(future, min(2, len(future))):
                Schedule.objects.filter(pk=schedule.pk).update(
                    status=ScheduleStatus.SUSPENDED, suspended_reason=data.SUSPEND_REASON
                )
        self.say(f"{len(rows)} new schedules ({history_days} days back, {days} ahead)")

    # -- members ------------------------------------------------------------------------------

    def load_members(
        self, count: int, levels: dict[int, MemberLevel], history_days: int
    ) -> list[DemoMember]:
        rng = self.rng
        # One hash for every demo member (hashing is the slow part of a bulk load).
        password = self.password = make_password(DEMO_MEMBER_PASSWORD)
        self.used_ids: set[str] = set()
        demo: list[DemoMember] = []
        # What each member's history rows repeat (the level and balance change with time).
        self.history_base: dict[int, dict[str, Any]] = {}
        with transaction.atomic():
            for start in range(0, count, BATCH):
                chunk = range(start, min(count, start + BATCH))
                registered_at = [
                    self.now
                    - dt.timedelta(
                        days=history_days + rng.randint(1, 900), minutes=rng.randint(0, 1440)
                    )
                    for _ in chunk
                ]
                users = User.objects.bulk_create(
                    [
                        User(
                            username=f"{DEMO_USER_PREFIX}{i:07d}",
                            password=password,
                            date_joined=registered,
                        )
                        for i, registered in zip(chunk, registered_at, strict=True)
                    ]
                )
                members = []
                for i, user, registered in zip(chunk, users, registered_at, strict=True):
                    gender = rng.choice([Gender.MALE, Gender.FEMALE])
                    birth = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 62))
                    level = rng.choices(list(levels), weights=data.LEVEL_WEIGHTS)[0]
                    members.append(
                        Member(
                            user=user,
                            name=self.person_name(),
                            phone=f"+86{data.demo_phone(i)}",
                            phone_verified=True,
                            national_id=self.national_id(birth, gender) if i % 2 == 0 else "",
                            gender=gender,
                            birth_date=birth,
                            level=levels[level],
                            registered_at=registered,
                        )
                    )
                Member.objects.bulk_create(members)
                for member in members:
                    self.history_base[member.pk] = {
                        name: getattr(member, name) for name in HISTORY_FIELDS
                    }
                demo += [
                    DemoMember(m.pk, m.user_id, m.level.level, m.registered_at) for m in members
                ]
                self.say(f"  members {len(demo)}/{count}")
        return demo

    def load_recent_members(
        self, count: int, levels: dict[int, MemberLevel], history_days: int
    ) -> None:
        """Members who signed up in the last weeks and have not booked yet (one in 25, at least
        20), more of them lately: the members' report shows sign-ups every day. They join at
        普通会员 with no points; their history starts at registration as a real sign-up's does."""
        more = self.more
        recent = max(20, count // 25)
        window = min(history_days, 90)
        first = levels[min(levels)]
        registered_at = sorted(
            self.now
            - dt.timedelta(days=window * more.random() ** 1.5, minutes=more.randint(0, 600))
            for _ in range(recent)
        )
        numbers = range(count, count + recent)
        password = self.password
        with transaction.atomic():
            users = User.objects.bulk_create(
                User(username=f"{DEMO_USER_PREFIX}{i:07d}", password=password, date_joined=at)
                for i, at in zip(numbers, registered_at, strict=True)
            )
            members = []
            for i, user, at in zip(numbers, users, registered_at, strict=True):
                gender = more.choice([Gender.MALE, Gender.FEMALE])
                birth = dt.date(1950, 1, 1) + dt.timedelta(days=more.randint(0, 365 * 55))
                given = "".join(more.sample(data.GIVEN_CHARS, more.choice([1, 2, 2])))
                members.append(
                    Member(
                        user=user,
                        name=more.choice(data.SURNAMES) + given,
                        phone=f"+86{data.demo_phone(i)}",
                        phone_verified=True,
                        national_id=self.national_id(birth, gender, more) if i % 2 == 0 else "",
                        gender=gender,
                        birth_date=birth,
                        level=first,
                        registered_at=at,
                    )
                )
            Member.objects.bulk_create(members)
            history = []
            for member in members:
                self.history_base[member.pk] = {
                    name: getattr(member, name) for name in HISTORY_FIELDS
                }
                demo = DemoMember(member.pk, member.user_id, first.level, member.registered_at)
                history.append(self.history_row(demo, member.registered_at, first.level, 0, "+"))
            Member.history.model.objects.bulk_create(history, batch_size=BATCH)
        self.say(f"{recent} members who signed up in the last {window} days")

    def person_name(self) -> str:
        given = "".join(self.rng.sample(data.GIVEN_CHARS, self.rng.choice([1, 2, 2])))
        return self.rng.choice(data.SURNAMES) + given

    def national_id(self, birth: dt.date, gender: str, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        while True:
            sequence = rng.randint(0, 499) * 2 + (1 if gender == Gender.MALE else 0)
            first17 = f"{rng.choice(data.ID_AREAS)}{birth:%Y%m%d}{sequence:03d}"
            value = first17 + national_id_check_char(first17)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    # -- appointments -------------------------------------------------------------------------

    # -- patients (就诊人) ------------------------------------------------------------------------

    def load_holders(self) -> dict[int, int]:
        """Every member's own patient record (idempotent); member id -> its patient id."""
        with connection.cursor() as cursor:
            cursor.execute(HOLDERS_SQL)
        return dict(Patient.objects.filter(relation=Relation.SELF).values_list("member_id", "pk"))

    def load_patients(self, members: list[DemoMember]) -> None:
        """The holders, and families: one member in ``FAMILY_EVERY`` also books for a child,
        a parent or both (valid IDs from the seed's generator); one child is too young for an
        ID and is registered with its guardian, the holder. The first demo member
        (13800000000) has a child and a parent. Drawn from a stream of their own, so the
        rest of the demo stays as it was."""
        family = self.family_rng = random.Random(self.rng_seed + 2)
        self.holder_of = self.load_holders()
        self.relatives: dict[int, list[tuple[int, str]]] = {}
        self.pediatric_departments = set(
            Department.objects.filter(code="pediatrics").values_list("pk", flat=True)
        )
        relatives: list[Patient] = []
        # The toddler's home: the first member after 13800000000 with an ID to be guardian.
        toddler_home = next(
            (i for i, m in enumerate(members[1:], 1) if self.history_base[m.pk]["national_id"]),
            None,
        )
        for index, member in enumerate(members):
            base = self.history_base[member.pk]
            surname = base["name"][0]
            holder_birth = base["birth_date"]
            if index == 0:
                kinds = ["child", "parent"]
            elif index == toddler_home:
                kinds = ["toddler"]
            elif family.randrange(FAMILY_EVERY):
                continue
            else:
                kinds = family.choice([["child"], ["parent"], ["child", "parent"]])
            added = member.registered_at  # added with the account: before any booking
            for kind in kinds:
                if kind == "toddler":  # too young for an ID card: the holder is the guardian
                    relatives.append(
                        Patient(
                            member_id=member.pk,
                            name=surname + family.choice(CHILD_GIVEN),
                            relation=Relation.CHILD,
                            id_type=IdType.NONE,
                            gender=family.choice([Gender.MALE, Gender.FEMALE]),
                            birth_date=self.today - dt.timedelta(days=family.randint(400, 1000)),
                            guardian_name=base["name"],
                            guardian_id_number=base["national_id"],
                            created_at=added,
                        )
                    )
                    continue
                if kind == "child":
                    low = max(holder_birth.year + 22, self.today.year - 15)
                    if index == 0:
                        low = min(low, self.today.year - 8)  # 13800000000's 小明, whatever the seed
                    if low > self.today.year - 1:
                        continue  # a holder too young for a child
                    year = family.randint(low, self.today.year - 1)
                    gender = family.choice([Gender.MALE, Gender.FEMALE])
                    birth = dt.date(year, family.randint(1, 12), family.randint(1, 28))
                    name = surname + ("小明" if index == 0 else family.choice(CHILD_GIVEN))
                    relation = Relation.CHILD
                else:
                    year = holder_birth.year - family.randint(22, 35)
                    gender = family.choice([Gender.MALE, Gender.FEMALE])
                    birth = dt.date(year, family.randint(1, 12), family.randint(1, 28))
                    given = "".join(family.sample(data.GIVEN_CHARS, 2))
                    name = (
                        family.choice(data.SURNAMES) + given
                        if gender == Gender.FEMALE
                        else (surname + given)
                    )
                    relation = Relation.PARENT
                relatives.append(
                    Patient(
                        member_id=member.pk,
                        name=name,
                        relation=relation,
                        id_type=IdType.RESIDENT,
                        id_number=self.national_id(birth, gender, family),
                        gender=gender,
                        birth_date=birth,
                        created_at=added,
                    )
                )
        with transaction.atomic():
            Patient.objects.bulk_create(relatives, batch_size=BATCH)
        for patient in relatives:
            self.relatives.setdefault(patient.member_id, []).append((patient.pk, patient.relation))
        self.say(
            f"{len(self.holder_of)} holder patients, {len(relatives)} relatives in "
            f"{len(self.relatives)} families"
        )

    def patient_for(self, member: DemoMember, schedule: Schedule) -> int:
        """Who an appointment of ``member`` is for: the holder, or now and then a relative
        (children to 儿科 only, adults elsewhere)."""
        relatives = self.relatives.get(member.pk)
        if relatives and self.family_rng.random() < FOR_RELATIVE_SHARE:
            children = schedule.doctor.department_id in self.pediatric_departments
            fitting = [pk for pk, relation in relatives if (relation == Relation.CHILD) == children]
            if fitting:
                return self.family_rng.choice(fitting)
        return self.holder_of[member.pk]

    def load_appointments(
        self, members: list[DemoMember], levels: dict[int, MemberLevel], target: int
    ) -> None:
        rng = self.rng
        schedules = list(
            Schedule.objects.filter(booked=0)
            .exclude(status=ScheduleStatus.SUSPENDED)
            .select_related("doctor")
            .order_by("date", "start_time", "pk")
        )
        # Upcoming sessions first, then the past from the most recent back.
        released = sorted(
            (s for s in schedules if opens_at_for(schedule=s, level=None) <= self.now),
            key=lambda s: (s.date < self.today, -s.date.toordinal() if s.date < self.today else 0),
        )
        slots = sum(s.capacity for s in released) or 1
        fill = min(0.92, target / slots)
        limit = {level: lv.max_active_appointments for level, lv in levels.items()}
        popular = next(
            (s for s in released if s.date > self.today and s.doctor.name == "王建国"), None
        )
        if popular is not None:
            # Booked first, before the members' caps on upcoming visits are used up elsewhere:
            # which sessions come before it depends on the hour the demo is seeded at.
            released.remove(popular)
            released.insert(0, popular)
        rows: list[AppointmentRow] = []
        booked: dict[int, int] = {}
        self.next_id = (Appointment.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.clerk_id = self.load_clerk()
        self.starts_at = {schedule.pk: schedule.starts_at for schedule in released}
        cancelled = AppointmentStatus.CANCELLED
        # 13800000000 (members[0] of a fresh seed) sees the doctors' records of three visits
        # whatever the seed and the hour: in the most recent past sessions, until three of
        # their visits are done, they are among those who booked.
        demo_member = members[0] if members else None
        demo_visits = 0 if members else DEMO_MEMBER_VISITS  # no members: nobody to place
        for schedule in released:
            if len(rows) >= target:
                break
            # 王建国's releases sell out, the past ones too (the release dashboard shows them).
            sells_out = schedule is popular or schedule.doctor.name == "王建国"
            share = 1.0 if sells_out else min(1.0, max(0.0, rng.gauss(fill, 0.15)))
            wanted = round(schedule.capacity * share)
            wanted = min(wanted, schedule.capacity, target - len(rows))
            past = schedule.date < self.today
            today = schedule.date == self.today
            # A session that sells out may ask every member (some are at their level's cap).
            pool = len(members) if sells_out else min(len(members), wanted * 2 + 5)
            candidates = rng.sample(members, pool)
            if past and demo_visits < DEMO_MEMBER_VISITS and demo_member not in candidates:
                candidates[0] = demo_member
            numbers = iter(rng.sample(range(1, schedule.capacity + 1), schedule.capacity))
            taken = active = 0
            for member in candidates:
                if taken >= wanted:
                    break
                status = self.pick_status(past=past, today=today, schedule=schedule)
                if status in UPCOMING_STATUSES:
                    if member.upcoming >= limit[member.level]:
                        continue
                    member.upcoming += 1
                number = next(numbers)
                rows.append(self.appointment(member, schedule, number, status))
                if member is demo_member and status == AppointmentStatus.COMPLETED:
                    demo_visits += 1
                taken += 1
                active += status in ACTIVE_STATUSES
                # Some slots were cancelled first and booked again later: keep the history.
                # The member cancelled it (only one who booked early enough to be allowed to),
                # or the front desk did, or the hold ran out unpaid.
                if rng.random() < 0.08:
                    canceller = rng.choice(members)
                    how = self.more.choices(
                        [BY_MEMBER, HOLD_EXPIRED, BY_STAFF], weights=[60, 25, 15]
                    )[0]
                    earliest, latest = self.booking_window(canceller, schedule, cancelled)
                    if how == HOLD_EXPIRED and earliest > self.now - self.hold:
                        how = BY_MEMBER  # too recent for a hold to have run out
                    if earliest <= latest:
                        rows.append(self.appointment(canceller, schedule, number, cancelled, how))
            booked[schedule.pk] = active
        self.suspend_after_booking(rows, released, popular, booked)
        with transaction.atomic():
            insert_rows(Appointment, AppointmentRow._fields, rows)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence('appointments_appointment', 'id'), "
                        "(SELECT MAX(id) FROM appointments_appointment))"
                    )
            by_count: dict[int, list[int]] = defaultdict(list)
            for pk, count in booked.items():
                by_count[count].append(pk)
            for count, pks in by_count.items():
                for start in range(0, len(pks), BATCH):
                    Schedule.objects.filter(pk__in=pks[start : start + BATCH]).update(booked=count)
            for pk, reason in self.suspend_reason.items():
                Schedule.objects.filter(pk=pk).update(
                    status=ScheduleStatus.SUSPENDED, suspended_reason=reason, booked=0
                )
        self.appointments = rows
        statuses = defaultdict(int)
        for row in rows:
            statuses[row.status] += 1
        self.say(f"{len(rows)} appointments: " + ", ".join(f"{k} {v}" for k, v in statuses.items()))

    def load_visit_records(self) -> None:
        """The doctors' records (病历) of 13800000000's three latest completed visits, written
        by the records service as at the visit (the latest one amended once), so the demo
        member's health record has something to read and download."""
        user = User.objects.get(username=f"{DEMO_USER_PREFIX}{0:07d}")
        visits = (
            Appointment.objects.filter(member__user=user, status=AppointmentStatus.COMPLETED)
            .select_related("schedule__doctor__department")
            .order_by("-schedule__date", "-pk")[:DEMO_MEMBER_VISITS]
        )
        clerk = User.objects.get(pk=self.load_clerk())
        written = []
        for appointment in visits:
            # What a doctor of the visit's department would write (an eye doctor does not
            # diagnose hypertension).
            department = appointment.schedule.doctor.department.code
            complaint, code, advice, prescriptions, follow_up_days = data.DEMO_VISIT_RECORDS.get(
                department, data.DEMO_VISIT_RECORDS["health-management"]
            )
            text = RecordText(
                chief_complaint=complaint,
                diagnosis_code=code,
                advice=advice,
                prescriptions=prescriptions,
                follow_up_on=appointment.schedule.date + dt.timedelta(days=follow_up_days)
                if follow_up_days
                else None,
            )
            author = appointment.schedule.doctor.user or clerk
            at = appointment.completed_at or self.now
            written.append(
                (write_record(appointment=appointment, text=text, by=author, now=at), text, author)
            )
        if written:
            # The one the member sees first (newest visit, then latest written): two visits
            # on the same day would otherwise leave the amendment on the second.
            record, text, author = max(
                written, key=lambda w: (w[0].appointment.schedule.date, w[0].created_at, w[0].pk)
            )
            amend_record(
                record=record,
                text=RecordText(
                    **{**text.__dict__, "advice": text.advice + "；一周内避免剧烈运动"}
                ),
                reason="补充医嘱",
                by=author,
                now=record.created_at + dt.timedelta(hours=2),
            )
        self.say(f"Visit records of 13800000000: {len(written)}")

    def load_clerk(self) -> int:
        """The front-desk clerk who cancelled some past appointments for their patients."""
        username, full_name = data.HISTORY_CLERK
        clerk, created = User.objects.get_or_create(
            username=username, defaults={"first_name": full_name}
        )
        if created:
            clerk.set_unusable_password()
            clerk.save(update_fields=["password"])
            clerk.groups.set([Group.objects.get(name=FRONT_DESK)])
        return clerk.pk

    def suspend_after_booking(
        self,
        rows: list[AppointmentRow],
        released: list[Schedule],
        popular: Schedule | None,
        booked: dict[int, int],
    ) -> None:
        """Suspend (停诊) a past session (a week or more ago) and an upcoming one (two days or
        more ahead) after members had booked them, as ``suspend_schedule`` does: between the
        last booking and the start (the upcoming one: before now), every booking cancelled by
        MedBook with the reason, its slot given back (and a paid one refunded with the orders)."""
        by_schedule: dict[int, list[int]] = defaultdict(list)
        holding = set()  # sessions with a hold being paid right now: not these
        for index, row in enumerate(rows):
            # A no-show too: a suspended session's bookings were cancelled before it began.
            if row.status in ACTIVE_STATUSES or row.status == AppointmentStatus.NO_SHOW:
                by_schedule[row.schedule_id].append(index)
            if row.status == AppointmentStatus.PENDING_PAYMENT:
                holding.add(row.schedule_id)
        week_ago = self.today - dt.timedelta(days=7)
        ahead = self.today + dt.timedelta(days=2)
        self.suspend_reason: dict[int, str] = {}
        for wanted, reason in zip(
            (lambda s: s.date <= week_ago, lambda s: s.date >= ahead and s is not popular),
            data.SUSPEND_AFTER_BOOKING_REASONS,
            strict=True,
        ):
            choices = [
                s for s in released if wanted(s) and by_schedule.get(s.pk) and s.pk not in holding
            ]
            if not choices:
                continue
            schedule = self.more.choice(choices)
            indexes = by_schedule[schedule.pk]
            last = max(rows[index].created_at for index in indexes)
            moment = last + (min(schedule.starts_at, self.now) - last) / 2
            for index in indexes:
                rows[index] = rows[index]._replace(
                    status=str(AppointmentStatus.CANCELLED),
                    checked_in_at=None,
                    called_at=None,
                    completed_at=None,
                    no_show_at=None,
                    cancelled_at=moment,
                    cancel_reason=f"停诊：{reason}",
                    cancelled_by_id=None,
                )
            booked[schedule.pk] = 0
            self.suspend_reason[schedule.pk] = reason

    def pick_status(self, *, past: bool, today: bool, schedule: Schedule) -> str:
        roll = self.rng.random()
        if past:
            if roll < 0.86:
                return AppointmentStatus.COMPLETED
            return AppointmentStatus.NO_SHOW
        if today:
            ended = schedule.ends_at <= self.now
            started = schedule.starts_at <= self.now
            if ended:
                if roll < 0.9:
                    return AppointmentStatus.COMPLETED
                # The sweep marks the absent only once the grace after the session has passed.
                if schedule.ends_at + self.no_show_grace <= self.now:
                    return AppointmentStatus.NO_SHOW
                return AppointmentStatus.CONFIRMED
            if started and roll < 0.4:
                return AppointmentStatus.COMPLETED
            # Patients check in once the session runs, or up to two hours before it starts.
            if roll < 0.7 and schedule.starts_at - dt.timedelta(hours=2) <= self.now:
                return AppointmentStatus.CHECKED_IN
            return AppointmentStatus.CONFIRMED
        if schedule.fee > 0 and roll < 0.04:
            return AppointmentStatus.PENDING_PAYMENT
        return AppointmentStatus.CONFIRMED

    def cancel_by(self, member: DemoMember, schedule: Schedule) -> dt.datetime:
        """Until when ``member`` may cancel: the cutoff, or the start if their level may
        cancel late."""
        if self.levels[member.level].can_cancel_late:
            return schedule.starts_at
        return cancellation_cutoff(schedule)

    def booking_window(
        self, member: DemoMember, schedule: Schedule, status: str
    ) -> tuple[dt.datetime, dt.datetime]:
        """Between when ``member`` booked an appointment that ended in ``status``: from when
        their level may book, to half an hour before the start (and, for one they cancelled
        themselves, their cancellation deadline). Empty when latest < earliest."""
        opens_at = opens_at_for(schedule=schedule, level=self.levels[member.level])
        earliest = max(opens_at, member.registered_at)
        latest = min(
            schedule.starts_at - dt.timedelta(minutes=30), self.now - dt.timedelta(minutes=1)
        )
        if status == AppointmentStatus.CANCELLED:
            latest = min(latest, self.cancel_by(member, schedule))
        return earliest, latest

    def appointment(
        self, member: DemoMember, schedule: Schedule, number: int, status: str, how: str = ""
    ) -> AppointmentRow:
        """One appointment in ``status``; a cancelled one was cancelled ``how`` (by the member,
        by the front desk, or by MedBook when its unpaid hold ran out)."""
        rng = self.rng
        starts = schedule.starts_at
        cancelled = status == AppointmentStatus.CANCELLED
        if status == AppointmentStatus.PENDING_PAYMENT:
            created = self.now - dt.timedelta(minutes=rng.randint(1, 10))
        else:
            earliest, latest = self.booking_window(member, schedule, status)
            span = max(0, int((latest - earliest).total_seconds()))
            created = earliest + dt.timedelta(seconds=rng.randint(0, span))
            if how == HOLD_EXPIRED and created + self.hold > self.now:
                how = BY_MEMBER  # too recent for its hold to have run out
        estimated = schedule.estimated_time(number)
        visit = dt.datetime.combine(schedule.date, estimated, starts.tzinfo)
        seen = status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
        # The day's rhythm, for the waiting and flow dashboard, without drawing from the random
        # stream (the rest of the demo stays as it was): patients arrive 5–25 minutes early,
        # some doctors run later as the session goes on, a visit takes 6–19 minutes.
        arrives = max(created, visit - dt.timedelta(minutes=5 + (member.pk + number) % 21))
        called = max(arrives, visit + dt.timedelta(minutes=(schedule.pk % 7) * number // 2 % 40))
        finished = called + dt.timedelta(minutes=6 + (member.pk * 3 + number) % 14)
        channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
        cancelled_at, cancel_reason, cancelled_by = (
            self.cancellation(member, schedule, created, how) if cancelled else (None, "", None)
        )
        self.next_id += 1
        return AppointmentRow(
            id=self.next_id - 1,
            member_id=member.pk,
            schedule_id=schedule.pk,
            queue_number=number,
            estimated_time=estimated,
            status=str(status),
            channel=Channel.WEB if how in (BY_MEMBER, HOLD_EXPIRED) else channel,
            fee=schedule.fee,
            created_at=created,
            confirmed_at=None if status == AppointmentStatus.PENDING_PAYMENT else created,
            checked_in_at=min(arrives, self.now) if seen else None,
            completed_at=min(finished, self.now) if status == AppointmentStatus.COMPLETED else None,
            cancelled_at=cancelled_at if cancelled else None,
            cancel_reason=cancel_reason if cancelled else "",
            cancelled_by_id=cancelled_by if cancelled else None,
            called_at=min(called, self.now) if status == AppointmentStatus.COMPLETED else None,
            no_show_at=schedule.ends_at + self.no_show_grace
            if status == AppointmentStatus.NO_SHOW
            else None,
            staff_note="",
            patient_id=self.patient_for(member, schedule),
        )

    def cancellation(
        self, member: DemoMember, schedule: Schedule, created: dt.datetime, how: str
    ) -> tuple[dt.datetime, str, int | None]:
        """When, why and by whom (user id, None for MedBook) an appointment was cancelled."""
        reason = self.rng.choice(data.CANCEL_REASONS)
        if how == HOLD_EXPIRED:
            return created + self.hold, EXPIRED_HOLD_REASON, None
        if how == BY_STAFF:
            until = min(schedule.starts_at, self.now)
            moment = created + (until - created) * self.more.uniform(0.3, 0.95)
            return moment, self.more.choice(data.STAFF_CANCEL_REASONS), self.clerk_id
        until = min(self.cancel_by(member, schedule), self.now)
        return created + (until - created) / 2, reason, member.user_id

    # -- points -------------------------------------------------------------------------------

    def load_orders(self, members: list[DemoMember], levels: dict[int, MemberLevel]) -> None:
        """One order per appointment with a fee, in the state its appointment implies.

        Bookings made at the front desk were paid at its till, the others through the online
        cashier (the sandbox gateway). Pending appointments hold an unpaid order (the expiry job
        closes it when the hold runs out), and so did those whose hold ran out; every other
        appointment was paid on booking, and a cancelled one refunded as ``cancel_booking``
        refunds it (a member's late cancellation: ``MEDBOOK_LATE_CANCEL_REFUND_PERCENT``), the
        refund carried out by the gateway a few minutes later.
        """
        level_of = {m.pk: m.level for m in members}
        user_of = {m.pk: m.user_id for m in members}
        cutoff = dt.timedelta(hours=settings.MEDBOOK_CANCEL_CUTOFF_HOURS)
        starts_at = self.starts_at
        zero = money.ZERO
        rows = []
        refunds: list[tuple] = []  # (out_trade_no, amount, reason, requested by, asked, done)
        # What each paid order kept (paid minus refunded): what its visit's points come from.
        self.kept: dict[int, Decimal] = {}
        for row in self.appointments:
            if row.fee == 0:
                continue
            rate = levels[level_of[row.member_id]].discount_rate
            amount = money.payable(fee=row.fee, discount_rate=rate)
            out_trade_no = f"MB{timezone.localtime(row.created_at):%Y%m%d%H%M%S}{row.id:010d}"
            cancelled = row.status == AppointmentStatus.CANCELLED
            unpaid = row.status == AppointmentStatus.PENDING_PAYMENT or (
                cancelled and row.cancel_reason == EXPIRED_HOLD_REASON
            )
            desk = row.channel in AT_THE_DESK and not unpaid
            refunded = zero
            if unpaid:
                status = OrderStatus.UNPAID if not cancelled else OrderStatus.CLOSED
            elif cancelled:
                refunded = amount
                own_late = row.cancelled_by_id == user_of[row.member_id] and (
                    row.cancelled_at >= starts_at[row.schedule_id] - cutoff
                )
                if own_late:
                    refunded = money.refund_share(
                        remaining=amount, percent=settings.MEDBOOK_LATE_CANCEL_REFUND_PERCENT
                    )
                if refunded > 0:
                    refunds.append(
                        (
                            out_trade_no,
                            refunded,
                            row.cancel_reason or "预约已取消",
                            row.cancelled_by_id,
                            row.cancelled_at,
                            row.cancelled_at + dt.timedelta(seconds=self.rng.randint(5, 900)),
                            desk,
                        )
                    )
                status = (
                    OrderStatus.PAID
                    if refunded == 0
                    else OrderStatus.REFUNDED
                    if refunded == amount
                    else OrderStatus.PARTIALLY_REFUNDED
                )
            else:
                status = OrderStatus.PAID
                self.kept[row.id] = amount  # nothing of it refunded
            paid = not unpaid
            rows.append(
                (
                    row.id,
                    row.member_id,
                    out_trade_no,
                    (Gateway.COUNTER if desk else Gateway.SANDBOX).value,
                    row.fee,
                    rate,
                    amount,
                    refunded,
                    status.value,
                    (f"CTR{out_trade_no[2:]}" if desk else f"SANDBOX{row.id:012d}")
                    if paid
                    else None,
                    row.created_at,
                    row.created_at + self.hold,
                    row.created_at if paid else None,
                    row.cancelled_at if status == OrderStatus.CLOSED else None,
                )
            )
        # The sandbox gateway's own ledger knows every payment and refund through it, so
        # settlement agrees; the till's are MedBook's own.
        trades = [
            (row[9], row[2], row[6], row[12], 1, row[12])
            for row in rows
            if row[9] is not None and row[3] == Gateway.SANDBOX
        ]
        with transaction.atomic():
            insert_rows(Order, ORDER_COLUMNS, rows)
            insert_rows(SandboxTrade, SANDBOX_TRADE_COLUMNS, trades)
            self.load_refunds(refunds)
        self.say(f"{len(rows)} orders, {len(trades)} sandbox payments, {len(refunds)} refunds")

    def load_refunds(self, refunds: list[tuple]) -> None:
        """The refunds of cancelled paid orders, as the refund job leaves them: succeeded."""
        if not refunds:
            return
        numbers = [refund[0] for refund in refunds]
        orders = dict(
            Order.objects.filter(out_trade_no__in=numbers).values_list("out_trade_no", "pk")
        )
        trades = dict(
            SandboxTrade.objects.filter(out_trade_no__in=numbers).values_list("out_trade_no", "pk")
        )
        rows, sandbox = [], []
        for out_trade_no, amount, reason, by, asked, done, desk in refunds:
            out_refund_no = f"RF{out_trade_no[2:]}01"
            refund_no = f"CTR{out_refund_no}" if desk else f"SR{out_refund_no}"
            rows.append(
                (
                    orders[out_trade_no],
                    out_refund_no,
                    amount,
                    reason[:200],
                    RefundStatus.SUCCEEDED.value,
                    refund_no,
                    "",
                    by,
                    asked,
                    done,
                    1,
                    done,
                    "",
                )
            )
            if not desk:
                sandbox.append((trades[out_trade_no], out_refund_no, refund_no, amount, done))
        insert_rows(Refund, REFUND_COLUMNS, rows)
        insert_rows(SandboxRefund, SANDBOX_REFUND_COLUMNS, sandbox)

    def load_points(self, members: list[DemoMember], levels: dict[int, MemberLevel]) -> None:
        """Opening balances, visit points, adjustments and redemptions, as one ledger per
        member, and the member's history: the level at registration and each upgrade.

        Each member's events are replayed in time order, as the app would have met them. A paid,
        completed visit earns what ``billing.services.complete_visit`` awards: ``money.points_for``
        of what its order kept, at the multiplier of the level the member had when they booked.
        The level is what the level rule (``level_by_rule`` of the qualifying points) gives at
        that moment, never lower than the level they joined with; redemptions don't count
        towards it and never take the balance below zero.
        """
        rng = self.rng
        rule_level = functools.cache(lambda points: level_by_rule(points=points).level)
        visits: dict[int, list[AppointmentRow]] = defaultdict(list)
        for row in self.appointments:
            if row.status == AppointmentStatus.COMPLETED and row.id in self.kept:
                visits[row.member_id].append(row)
        adjusted = {m.pk for m in rng.sample(members, len(members) // 20)}
        redeeming = {m.pk for m in self.more.sample(members, len(members) // 8)}
        entries: list[tuple] = []
        history: list[Member] = []
        upgrades = 0
        updates: dict[tuple[int, int], list[int]] = defaultdict(list)
        for member in members:
            start = levels[member.level].min_points
            opening = start + rng.randint(0, 300) if member.level > 1 else rng.randint(0, 2) * 100
            # (moment, order, kind, payload): a visit's points need the level at its booking.
            events: list[tuple] = []
            if opening:
                events.append((member.registered_at, 0, PointsReason.MIGRATION, opening))
            for row in visits[member.pk]:
                events.append((row.completed_at, 1, PointsReason.VISIT, row))
            span = self.now - member.registered_at
            if member.pk in adjusted:
                events.append((member.registered_at + span * rng.random(), 2, "adjust", None))
            if member.pk in redeeming:
                moment = member.registered_at + span * self.more.random()
                events.append((moment, 3, "redeem", None))
            events.sort(key=lambda event: event[:2])
            level = member.level
            changes = [(member.registered_at, level)]  # when the member reached each level
            balance = qualifying = 0
            for moment, _order, kind, payload in events:
                if kind == PointsReason.VISIT:
                    booked = payload.created_at
                    booked_with = next(lv for at, lv in reversed(changes) if at <= booked)
                    delta = money.points_for(
                        paid=self.kept[payload.id], multiplier=levels[booked_with].points_multiplier
                    )
                    entry = (delta, PointsReason.VISIT, "", f"appointment:{payload.id}")
                elif kind == PointsReason.MIGRATION:
                    entry = (payload, PointsReason.MIGRATION, "", "")  # the reason says it
                elif kind == "adjust":
                    entry = (50, PointsReason.ADJUSTMENT, rng.choice(data.ADJUSTMENT_NOTES), "")
                else:
                    delta = -min(balance // 100 * 100, self.more.choice([100, 200, 300]))
                    note = self.more.choice(data.REDEMPTION_NOTES)
                    entry = (delta, PointsReason.REDEMPTION, note, "")
                delta, reason, note, reference = entry
                if delta == 0:
                    continue
                balance += delta
                if reason not in NOT_QUALIFYING:
                    qualifying += delta
                entries.append((member.pk, delta, balance, str(reason), note, reference, moment))
                reached = max(rule_level(qualifying), level)
                if reached != level:
                    level = reached
                    changes.append((moment, level))
                    history.append(self.history_row(member, moment, level, balance, "~"))
                    upgrades += 1
            history.append(self.history_row(member, member.registered_at, member.level, 0, "+"))
            updates[(balance, level)].append(member.pk)
        with transaction.atomic():
            insert_rows(PointsEntry, LEDGER_COLUMNS, entries)
            Member.history.model.objects.bulk_create(history, batch_size=BATCH)
            # One UPDATE per distinct (balance, level): far cheaper than a CASE per row.
            for (balance, level), pks in updates.items():
                for start in range(0, len(pks), BATCH):
                    Member.objects.filter(pk__in=pks[start : start + BATCH]).update(
                        points_balance=balance, level=levels[level]
                    )
        self.say(f"{len(entries)} points ledger entries, {upgrades} level upgrades")

    def history_row(
        self, member: DemoMember, moment: dt.datetime, level: int, balance: int, kind: str
    ) -> Member:
        """A row of the member's history (django-simple-history), as a save at ``moment``
        would have written it."""
        return Member.history.model(
            **self.history_base[member.pk],
            level_id=self.levels[level].pk,
            points_balance=balance,
            history_date=moment,
            history_type=kind,
        )

    def load_no_show_pauses(self, members: list[DemoMember]) -> None:
        """Pause online booking as the no-show rule would have: ``MEDBOOK_NO_SHOW_LIMIT``
        no-shows within ``MEDBOOK_NO_SHOW_WINDOW_DAYS`` pause the member for
        ``MEDBOOK_NO_SHOW_BAN_DAYS`` from the no-show that reached the limit (the last such
        pause is what the member's row keeps; most have ended by now)."""
        limit = settings.MEDBOOK_NO_SHOW_LIMIT
        window = dt.timedelta(days=settings.MEDBOOK_NO_SHOW_WINDOW_DAYS)
        ban = dt.timedelta(days=settings.MEDBOOK_NO_SHOW_BAN_DAYS)
        missed: dict[int, list[dt.datetime]] = defaultdict(list)
        for row in self.appointments:
            if row.status == AppointmentStatus.NO_SHOW:
                missed[row.member_id].append(row.no_show_at)
        until: dict[int, dt.datetime] = {}
        for member_id, moments in missed.items():
            moments.sort()
            paused_until = None
            for index, moment in enumerate(moments):
                recent = [m for m in moments[: index + 1] if m > moment - window]
                if len(recent) >= limit and (paused_until is None or moment >= paused_until):
                    paused_until = moment + ban
            if paused_until is not None:
                until[member_id] = paused_until
        with transaction.atomic():
            for member_id, moment in until.items():
                Member.objects.filter(pk=member_id).update(banned_until=moment)
        paused_now = sum(moment > self.now for moment in until.values())
        self.say(f"{len(until)} members paused for no-shows ({paused_now} still paused)")
