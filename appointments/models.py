"""Departments, doctors, schedules (号源) and appointments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from medbook.choices import choice_label
from medbook.i18n import local_name
from medbook.personal_data import mask_name
from members.models import Member, Message, Patient, Relation

from .choices import (
    ACTIVE_STATUSES,
    REMINDER_TONES,
    STATUS_TONES,
    UPCOMING_STATUSES,
    WAITLIST_OPEN,
    WAITLIST_TONES,
    WEEKDAYS,
    AppointmentStatus,
    Channel,
    DoctorTitle,
    ReminderStatus,
    ScheduleStatus,
    Session,
    WaitlistStatus,
)
from .search import search_keys as keys_for
from .search import split_aliases
from .slots import Slot, slot_of_number, time_in_slot


def _with_search_keys(kwargs: dict, sources: set[str]) -> None:
    """A save limited to ``update_fields`` that touches a name also writes ``search_keys``."""
    fields = kwargs.get("update_fields")
    if fields is not None and sources & set(fields):
        kwargs["update_fields"] = {*fields, "search_keys"}


class Department(models.Model):
    """A clinical department (科室)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    name_en = models.CharField(
        _("English name"), max_length=64, blank=True, db_default="", default=""
    )
    aliases = models.CharField(
        _("also known as"),
        max_length=200,
        blank=True,
        db_default="",
        default="",
        help_text=_("Short names patients search for, separated by commas, e.g. 心内, 心内科."),
    )
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=100, blank=True)
    location_en = models.CharField(
        _("location (English)"), max_length=100, blank=True, db_default="", default=""
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Name, aliases and English name in every form search matches (appointments.search).
    search_keys = models.TextField(editable=False, db_default="", default="", db_index=True)
    history = HistoricalRecords(excluded_fields=["search_keys"])

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.local_name

    def save(self, *args, **kwargs) -> None:
        """Keeps ``search_keys`` in step with the names it is made of."""
        self.search_keys = keys_for(self.name, self.name_en, aliases=split_aliases(self.aliases))
        _with_search_keys(kwargs, {"name", "name_en", "aliases"})
        super().save(*args, **kwargs)

    @property
    def local_name(self) -> str:
        """The name in the reader's language: the English name on English pages when set."""
        return local_name(self.name, self.name_en)

    @property
    def local_location(self) -> str:
        return local_name(self.location, self.location_en)


class Doctor(models.Model):
    """A doctor who sees patients in one department."""

    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(
        _("English name"), max_length=64, blank=True, db_default="", default=""
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=24, choices=DoctorTitle.choices)
    introduction = models.TextField(_("introduction"), blank=True)
    introduction_en = models.TextField(
        _("introduction (English)"), blank=True, db_default="", default=""
    )
    specialties = models.CharField(_("specialties"), max_length=200, blank=True)
    specialties_en = models.CharField(
        _("specialties (English)"), max_length=200, blank=True, db_default="", default=""
    )
    registration_fee = models.DecimalField(
        _("registration fee"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    allows_extra_numbers = models.BooleanField(
        _("allows extra numbers (加号)"),
        default=False,
        help_text=_("The front desk may add a number beyond the session's slots for a walk-in."),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doctor",
        verbose_name=_("login"),
    )
    # Name and English name in every form search matches (appointments.search).
    search_keys = models.TextField(editable=False, db_default="", default="", db_index=True)
    history = HistoricalRecords(excluded_fields=["search_keys"])

    class Meta:
        ordering = ["department", "name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        constraints = [
            models.CheckConstraint(condition=Q(registration_fee__gte=0), name="doctor_fee_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.local_name} · {choice_label(self, 'title')}"

    def save(self, *args, **kwargs) -> None:
        """Keeps ``search_keys`` in step with the names it is made of."""
        self.search_keys = keys_for(self.name_en, person=self.name)
        _with_search_keys(kwargs, {"name", "name_en"})
        super().save(*args, **kwargs)

    @property
    def local_name(self) -> str:
        """The name in the reader's language (the Chinese name when no English one is set)."""
        return local_name(self.name, self.name_en)

    @property
    def local_specialties(self) -> str:
        return local_name(self.specialties, self.specialties_en)

    @property
    def local_introduction(self) -> str:
        return local_name(self.introduction, self.introduction_en)


class ScheduleTemplate(models.Model):
    """A doctor's weekly session, from which dated schedules are generated."""

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="templates", verbose_name=_("doctor")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    session = models.CharField(_("session"), max_length=16, choices=Session.choices)
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("slots"), default=10)
    minutes_per_visit = models.PositiveSmallIntegerField(_("minutes per visit"), default=15)
    slot_minutes = models.PositiveSmallIntegerField(
        _("time slot minutes"),
        default=0,
        db_default=0,
        help_text=_(
            "Split the session into time slots of this many minutes, each with its share of "
            "the places; members choose one. 0: not split."
        ),
    )
    room = models.CharField(_("room"), max_length=32, blank=True)
    room_en = models.CharField(
        _("room (English)"), max_length=32, blank=True, db_default="", default=""
    )
    fee = models.DecimalField(
        _("fee"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Leave empty to use the doctor's registration fee."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["doctor", "weekday", "start_time"]
        verbose_name = _("weekly schedule template")
        verbose_name_plural = _("weekly schedule templates")
        constraints = [
            models.UniqueConstraint(
                fields=["doctor", "weekday", "session"], name="scheduletemplate_unique_session"
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="scheduletemplate_end_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="scheduletemplate_capacity"),
            models.CheckConstraint(
                condition=Q(minutes_per_visit__gte=1), name="scheduletemplate_minutes_per_visit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} {choice_label(self, 'weekday')} {choice_label(self, 'session')}"

    @property
    def local_room(self) -> str:
        return local_name(self.room, self.room_en)


class Schedule(models.Model):
    """One bookable session of a doctor on a date (号源): capacity slots, each a queue number."""

    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="schedules", verbose_name=_("doctor")
    )
    date = models.DateField(_("date"))
    session = models.CharField(_("session"), max_length=16, choices=Session.choices)
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("slots"), default=10)
    booked = models.PositiveSmallIntegerField(_("booked"), default=0, editable=False)
    # Freed slots held for a waitlist offer (候补): neither booked nor free until the offer is
    # taken (booked + 1, offered - 1) or passes with nobody left waiting (offered - 1).
    offered = models.PositiveSmallIntegerField(
        _("held for waitlist"), default=0, db_default=0, editable=False
    )
    minutes_per_visit = models.PositiveSmallIntegerField(_("minutes per visit"), default=15)
    slot_minutes = models.PositiveSmallIntegerField(
        _("time slot minutes"),
        default=0,
        db_default=0,
        help_text=_(
            "Split the session into time slots of this many minutes, each with its share of "
            "the places; members choose one. 0: not split."
        ),
    )
    room = models.CharField(_("room"), max_length=32, blank=True)
    room_en = models.CharField(
        _("room (English)"), max_length=32, blank=True, db_default="", default=""
    )
    fee = models.DecimalField(
        _("fee"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ScheduleStatus.choices,
        default=ScheduleStatus.PUBLISHED,
    )
    release_at = models.DateTimeField(
        _("opens for booking"), help_text=_("When the public may start booking.")
    )
    template = models.ForeignKey(
        ScheduleTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedules",
        verbose_name=_("template"),
    )
    suspended_reason = models.CharField(_("suspension reason"), max_length=200, blank=True)
    # The first moment every slot was taken (放号售罄), written by the booking that took the
    # last one, in the same UPDATE; kept when a slot is freed later (it is the FIRST sell-out).
    sold_out_at = models.DateTimeField(
        _("first sold out at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["booked", "offered", "sold_out_at", "updated_at"])

    class Meta:
        ordering = ["date", "start_time"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.CheckConstraint(condition=Q(booked__gte=0), name="schedule_booked_gte_0"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="schedule_booked_lte_capacity"
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity") - F("offered")),
                name="schedule_booked_offered_lte_capacity",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="schedule_capacity_gte_1"),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="schedule_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(minutes_per_visit__gte=1), name="schedule_minutes_per_visit_gte_1"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="schedule_fee_gte_0"),
            models.UniqueConstraint(
                fields=["doctor", "date", "start_time"], name="schedule_unique_doctor_start"
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "date"], name="schedule_doctor_date_idx"),
            models.Index(fields=["date"], name="schedule_date_idx"),
        ]
        permissions = [
            ("suspend_schedule", _("Can suspend a schedule")),
            ("generate_schedules", _("Can generate schedules from templates")),
        ]

    def __str__(self) -> str:
        return f"{self.doctor.local_name} {self.date:%Y-%m-%d} {self.start_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("A session must end after it starts.")})
        if self.capacity is not None and self.booked > self.capacity:
            raise ValidationError(
                {
                    "capacity": _("Capacity cannot be lower than the %(n)d slots already booked.")
                    % {"n": self.booked}
                }
            )

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.date, self.start_time, tzinfo=timezone.get_current_timezone()
        )

    @property
    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date, self.end_time, tzinfo=timezone.get_current_timezone())

    @property
    def local_room(self) -> str:
        """The room in the reader's language (the English name when set)."""
        return local_name(self.room, self.room_en)

    @property
    def remaining(self) -> int:
        """Slots anyone may book: not booked and not held for a waitlist offer."""
        return max(self.capacity - self.booked - self.offered, 0)

    @property
    def status_tone(self) -> str:
        return STATUS_TONES[self.status]

    @property
    def is_split(self) -> bool:
        """Whether the session is split into time slots (分时段) that members choose from."""
        return self.slot_minutes > 0

    def estimated_time(self, queue_number: int) -> dt.time:
        """When ``queue_number`` is expected: inside its time slot when the session is split,
        else one visit's length after the number before it."""
        slot = slot_of_number(self, queue_number)
        if slot is not None:
            return time_in_slot(slot, queue_number)
        start = dt.datetime.combine(self.date, self.start_time)
        return (start + dt.timedelta(minutes=self.minutes_per_visit * (queue_number - 1))).time()


class AppointmentQuerySet(models.QuerySet):
    def ahead(self, day: dt.date) -> AppointmentQuerySet:
        """Appointments still to come on or after ``day`` (awaiting payment, confirmed, checked
        in): what a patient being removed, or an account being closed, must not have."""
        return self.filter(status__in=UPCOMING_STATUSES, schedule__date__gte=day)


class Appointment(models.Model):
    """A member's booking of one slot (就诊序号) of a schedule."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("member")
    )
    # Who is seen (就诊人): the member, or a relative of theirs. Null only for rows written by
    # a release from before patients, until the backfill (members 0013) reaches them.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("patient"),
        db_index=False,
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("schedule")
    )
    queue_number = models.PositiveSmallIntegerField(_("queue number"))
    estimated_time = models.TimeField(_("estimated time"))
    status = models.CharField(
        _("status"), max_length=16, choices=AppointmentStatus.choices, db_index=False
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    fee = models.DecimalField(_("fee"), max_digits=8, decimal_places=2)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    # The doctor's queue (叫号): every call of this patient (the first, each 重呼, each call after
    # a 过号) counts once; ``call_count`` with the appointment's id names one call, so the
    # waiting-room display speaks each call once. ``queue_rank`` orders the waiting patients
    # once a 过号 has put someone back among them (None: in check-in order, after the ranked).
    # Defaults in the database too (db_default): bulk loads (COPY) that name no such column, and
    # an older release still running while this one rolls out, insert rows that are valid.
    call_count = models.PositiveSmallIntegerField(
        _("times called"), default=0, db_default=0, editable=False
    )
    skip_count = models.PositiveSmallIntegerField(
        _("times skipped"), default=0, db_default=0, editable=False
    )
    queue_rank = models.PositiveIntegerField(_("place in the queue"), null=True, blank=True)
    visit_note = models.CharField(
        _("visit note"), max_length=500, blank=True, default="", db_default=""
    )
    no_show_at = models.DateTimeField(_("marked no-show at"), null=True, blank=True)
    staff_note = models.CharField(
        _("staff note"),
        max_length=200,
        blank=True,
        help_text=_("Why staff booked past the member's own limits, when they did."),
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(queue_number__gte=1), name="appointment_queue_gte_1"
            ),
            models.CheckConstraint(condition=Q(fee__gte=0), name="appointment_fee_gte_0"),
            models.UniqueConstraint(
                fields=["patient", "schedule"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_one_active_per_patient_schedule",
            ),
            models.UniqueConstraint(
                fields=["schedule", "queue_number"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_unique_active_queue_number",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"], name="appointment_member_idx"),
            models.Index(fields=["patient", "status"], name="appointment_patient_idx"),
            models.Index(fields=["schedule", "status"], name="appointment_schedule_idx"),
            # The reports' active members: the appointments made on a range of days.
            models.Index(fields=["created_at"], name="appointment_created_idx"),
        ]
        permissions = [
            ("cancel_any_appointment", _("Can cancel any appointment, ignoring the cutoff")),
            ("check_in_appointment", _("Can check patients in")),
            ("book_for_member", _("Can book and register walk-ins for members")),
            ("override_booking_rules", _("Can book past a member's own limits, with a reason")),
            ("run_queue", _("Can call, complete and mark no-shows in their own queue")),
        ]

    def __str__(self) -> str:
        return f"#{self.queue_number} {self.schedule}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def status_tone(self) -> str:
        return STATUS_TONES[self.status]

    @property
    def time_slot(self) -> Slot | None:
        """The time slot (分时段) of the session this appointment's number lies in (None when
        the session is not split)."""
        return slot_of_number(self.schedule, self.queue_number)

    # Who is seen (就诊人), for every page and message that names them. A row from before
    # patients (``patient`` still empty) names the account holder. Load with
    # ``select_related("patient", "member")``.

    @property
    def patient_name(self) -> str:
        return self.patient.name if self.patient_id else self.member.name

    @property
    def patient_masked_name(self) -> str:
        return mask_name(self.patient_name)

    @property
    def patient_relation_label(self) -> str:
        if self.patient_id:
            return str(self.patient.get_relation_display())
        return str(Relation.SELF.label)

    @property
    def for_relative(self) -> bool:
        """Booked for someone other than the account holder (a child, a parent …)."""
        return bool(self.patient_id) and not self.patient.is_self


class TitleFee(models.Model):
    """The registration fee a doctor of a title charges unless their own fee is set."""

    title = models.CharField(_("title"), max_length=24, choices=DoctorTitle.choices, unique=True)
    fee = models.DecimalField(
        _("registration fee"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee by title")
        verbose_name_plural = _("fees by title")
        constraints = [models.CheckConstraint(condition=Q(fee__gte=0), name="titlefee_fee_gte_0")]

    def __str__(self) -> str:
        return f"{self.get_title_display()} ¥{self.fee}"


class Holiday(models.Model):
    """A day the clinic is closed: no schedules are generated for it."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class ReleaseRule(models.Model):
    """When sessions open to the public (放号): ``days_ahead`` days before at ``release_time``.

    One row for the clinic (pk 1). Levels with booking_lead_hours may book that much earlier.
    """

    days_ahead = models.PositiveSmallIntegerField(_("days ahead"), default=7)
    release_time = models.TimeField(_("release time"), default=dt.time(8, 0))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("release rule")
        verbose_name_plural = _("release rule")
        constraints = [
            models.CheckConstraint(condition=Q(days_ahead__gte=1), name="releaserule_days_gte_1")
        ]

    def __str__(self) -> str:
        return _("%(days)d days ahead at %(time)s") % {
            "days": self.days_ahead,
            "time": self.release_time.strftime("%H:%M"),
        }

    @classmethod
    def current(cls) -> ReleaseRule:
        rule, _created = cls.objects.get_or_create(pk=1)
        return rule

    def release_at(self, day: dt.date) -> dt.datetime:
        """When a session on ``day`` opens to the public."""
        return dt.datetime.combine(
            day - dt.timedelta(days=self.days_ahead),
            self.release_time,
            tzinfo=timezone.get_current_timezone(),
        )


class ReleaseDemand(models.Model):
    """Booking attempts on a session that the release gate refused as sold out (放号需求), as
    counted in Redis by the gate (appointments.gate) and copied here by a periodic job.

    One row per session and counting period: Redis counts a session's refusals in a counter
    that remembers when it started (``counted_from``: its first refusal); the job copies the
    count as it stands, keeping the larger of the copy and the row, so a copy that runs twice
    changes nothing, and a counter Redis lost (a restart, a flush, its expiry) starts a new
    period: a new row, never added to an old one. Refusals made while Redis was down, or
    counted after the last copy and then lost, are missing: the figures are "where recorded"."""

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="demand", verbose_name=_("schedule")
    )
    counted_from = models.DateTimeField(_("counted from"))
    refused = models.PositiveIntegerField(_("refused as sold out"), default=0)
    copied_at = models.DateTimeField(_("copied at"))

    class Meta:
        verbose_name = _("release demand")
        verbose_name_plural = _("release demand")
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "counted_from"], name="releasedemand_unique_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.counted_from:%Y-%m-%d %H:%M:%S} {self.refused}"


class ReleaseReminder(models.Model):
    """A member's "remind me when it opens" (放号提醒) on a session not yet open to them.

    The reminder is due at the member's own opening time: the session's public release minus
    the lead hours of the level the member has when the job looks (a level changed after
    setting it moves the reminder with it). The job (appointments.services.release_reminders)
    sends the message once and closes the reminder; a session cancelled or passed meanwhile
    closes it unsent. At most one waiting reminder per member and session.
    """

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="release_reminders",
        verbose_name=_("member"),
        db_index=False,  # releasereminder_member_idx leads with the member
    )
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.CASCADE,
        related_name="release_reminders",
        verbose_name=_("schedule"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ReminderStatus.choices,
        default=ReminderStatus.WAITING,
    )
    created_at = models.DateTimeField(_("set at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message sent"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release reminder")
        verbose_name_plural = _("release reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "schedule"],
                condition=Q(status=ReminderStatus.WAITING),
                name="releasereminder_one_waiting",
            ),
            models.CheckConstraint(
                condition=Q(status=ReminderStatus.WAITING) | Q(closed_at__isnull=False),
                name="releasereminder_closed_has_time",
            ),
        ]
        indexes = [
            # The job's look-up: the waiting reminders, by session.
            models.Index(
                fields=["schedule"],
                condition=Q(status=ReminderStatus.WAITING),
                name="releasereminder_waiting_idx",
            ),
            models.Index(fields=["member", "-created_at"], name="releasereminder_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.schedule_id} ({self.status})"

    @property
    def is_waiting(self) -> bool:
        return self.status == ReminderStatus.WAITING

    @property
    def status_tone(self) -> str:
        return REMINDER_TONES[self.status]


class Reschedule(models.Model):
    """One move of a booking to another session (改约): the appointment it ended, the one that
    took its place, who moved it and why.

    The old appointment is cancelled (its reason says it was rescheduled) and keeps its history;
    this row links the two, so each page can show where a booking went and where it came from,
    and counts the moves of one booking (``sequence``) against the reschedule limit. Written
    once, by the reschedule service, in the transaction that moved the slot (or, for a move to
    a dearer session, that took the new slot; ``completed_at`` is set when the difference is
    paid)."""

    from_appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        related_name="rescheduled_to",
        verbose_name=_("moved from"),
    )
    to_appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        related_name="rescheduled_from",
        verbose_name=_("moved to"),
    )
    sequence = models.PositiveSmallIntegerField(
        _("move number"), help_text=_("1 for the first move of a booking, 2 for the next …")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("moved by"),
    )
    for_member = models.BooleanField(
        _("by staff for the member"),
        default=False,
        help_text=_("Staff moved it, past the member's own limits, giving the reason."),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    old_fee = models.DecimalField(_("fee before"), max_digits=8, decimal_places=2)
    new_fee = models.DecimalField(_("fee after"), max_digits=8, decimal_places=2)
    created_at = models.DateTimeField(_("moved at"), default=timezone.now)
    # None while a move to a dearer session waits for the difference: the new appointment
    # holds its slot (awaiting payment) and the old one stays as it was.
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reschedule")
        verbose_name_plural = _("reschedules")
        constraints = [
            models.CheckConstraint(condition=Q(sequence__gte=1), name="reschedule_sequence_gte_1"),
            # A booking moves away once; moves that waited for a difference never paid stay
            # as records of the hold.
            models.UniqueConstraint(
                fields=["from_appointment"],
                condition=Q(completed_at__isnull=False),
                name="reschedule_once_from",
            ),
            models.CheckConstraint(
                condition=~Q(from_appointment=F("to_appointment")),
                name="reschedule_moves_somewhere",
            ),
        ]
        permissions = [
            (
                "reschedule_for_member",
                _("Can reschedule a member's appointment past their own limits, with a reason"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_appointment_id} → {self.to_appointment_id}"


class WaitlistEntry(models.Model):
    """A member's place on a waitlist (候补) for a sold-out session, or for any session of a
    doctor between two days (``schedule`` empty).

    A slot freed on a matching session is offered to the first waiting entry, by the member's
    level (higher first), then by when they joined; the slot is held (``Schedule.offered``)
    until ``offer_expires_at``. The member accepts (the slot is booked for ``patient``), leaves,
    or lets it pass, and the slot goes to the next. An entry is offered a slot once at most.
    """

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("member")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", verbose_name=_("patient")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        verbose_name=_("session"),
        help_text=_("Empty: any session of the doctor between the two days."),
    )
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    offered_schedule = models.ForeignKey(
        Schedule,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist_offers",
        verbose_name=_("session offered"),
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer held until"), null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("appointment"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-joined_at", "-id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "schedule"],
                condition=Q(status__in=WAITLIST_OPEN, schedule__isnull=False),
                name="waitlist_one_open_per_patient_schedule",
            ),
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_in_order"
            ),
            models.CheckConstraint(
                condition=~Q(status=WaitlistStatus.OFFERED)
                | Q(offered_schedule__isnull=False, offer_expires_at__isnull=False),
                name="waitlist_offer_has_slot",
            ),
        ]
        indexes = [
            # Who is next for a freed slot: the open entries of a doctor.
            models.Index(
                fields=["doctor", "date_from"],
                condition=Q(status=WaitlistStatus.WAITING),
                name="waitlist_waiting_idx",
            ),
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status=WaitlistStatus.OFFERED),
                name="waitlist_offered_idx",
            ),
            models.Index(fields=["member", "-joined_at"], name="waitlist_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.schedule_id or self.doctor_id} ({self.status})"

    @property
    def is_offered(self) -> bool:
        return self.status == WaitlistStatus.OFFERED

    @property
    def is_open(self) -> bool:
        return self.status in WAITLIST_OPEN

    @property
    def status_tone(self) -> str:
        return WAITLIST_TONES[self.status]
