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

from members.models import Member

from .choices import (
    ACTIVE_STATUSES,
    STATUS_TONES,
    WEEKDAYS,
    AppointmentStatus,
    Channel,
    DoctorTitle,
    ScheduleStatus,
    Session,
)


class Department(models.Model):
    """A clinical department (科室)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Doctor(models.Model):
    """A doctor who sees patients in one department."""

    name = models.CharField(_("name"), max_length=64)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=24, choices=DoctorTitle.choices)
    introduction = models.TextField(_("introduction"), blank=True)
    specialties = models.CharField(_("specialties"), max_length=200, blank=True)
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
    history = HistoricalRecords()

    class Meta:
        ordering = ["department", "name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        constraints = [
            models.CheckConstraint(condition=Q(registration_fee__gte=0), name="doctor_fee_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.get_title_display()}"


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
    room = models.CharField(_("room"), max_length=32, blank=True)
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
        return f"{self.doctor} {self.get_weekday_display()} {self.get_session_display()}"


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
    minutes_per_visit = models.PositiveSmallIntegerField(_("minutes per visit"), default=15)
    room = models.CharField(_("room"), max_length=32, blank=True)
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
    history = HistoricalRecords(excluded_fields=["booked", "sold_out_at", "updated_at"])

    class Meta:
        ordering = ["date", "start_time"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        constraints = [
            models.CheckConstraint(condition=Q(booked__gte=0), name="schedule_booked_gte_0"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="schedule_booked_lte_capacity"
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
        return f"{self.doctor.name} {self.date:%Y-%m-%d} {self.start_time:%H:%M}"

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
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def status_tone(self) -> str:
        return STATUS_TONES[self.status]

    def estimated_time(self, queue_number: int) -> dt.time:
        start = dt.datetime.combine(self.date, self.start_time)
        return (start + dt.timedelta(minutes=self.minutes_per_visit * (queue_number - 1))).time()


class Appointment(models.Model):
    """A member's booking of one slot (就诊序号) of a schedule."""

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("member")
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
                fields=["member", "schedule"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_one_active_per_member_schedule",
            ),
            models.UniqueConstraint(
                fields=["schedule", "queue_number"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_unique_active_queue_number",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"], name="appointment_member_idx"),
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
