"""Read models of the reports (数据分析): daily rollups built from the raw tables.

Why rollup tables rather than PostgreSQL materialized views: the embedded default runs on
SQLite, which has no materialized views, and the same pages must work there; a materialized
view is refreshed whole (``REFRESH … CONCURRENTLY`` still recomputes every row, a year and a
million appointments each time), whereas these tables are rebuilt for any range of days by
``reports.services.rebuild_rollups`` in a few set-based statements, so the periodic job only
recomputes the recent days; and the member's level at booking time (a look-up in the member's
history) is computed once when a day is built, not at every page view. The dashboards read only
these tables, grouped by a handful of columns.

Every row is derived: deleting a range and rebuilding it gives the same rows, so nothing here is
kept in history and nothing links to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.choices import Channel, Session
from appointments.models import Department, Doctor
from billing.choices import Gateway
from members.models import Member, MemberLevel, PointsReason

from .choices import ExportFormat, ExportKind, ExportStatus, LeadTime


class SessionGrain(models.Model):
    """What both rollups are kept by: a clinic day, its doctor (with the department), the
    session and its start hour."""

    date = models.DateField(_("date"))
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday, as Python's
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    session = models.CharField(_("session"), max_length=16, choices=Session.choices)
    start_hour = models.PositiveSmallIntegerField(_("start hour"))

    class Meta:
        abstract = True


class DailySessionStat(SessionGrain):
    """The sessions (号源) of one clinic day, doctor, session (morning/afternoon/evening) and
    start hour: how many were held and their slots (capacity), and how many were suspended
    (停诊). Capacity does not depend on who booked, so it has no level or channel."""

    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    capacity = models.PositiveIntegerField(_("slots"), default=0)
    suspended_sessions = models.PositiveIntegerField(_("sessions suspended"), default=0)

    class Meta:
        verbose_name = _("daily session figures")
        verbose_name_plural = _("daily session figures")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "doctor", "session", "start_hour"],
                name="dailysessionstat_unique_grain",
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailysessionstat_date_idx")]
        permissions = [("view_reports", _("Can see the reports"))]

    def __str__(self) -> str:
        return f"{self.date} {self.doctor_id} {self.session} {self.start_hour}h"


class DailyBookingStat(SessionGrain):
    """The appointments of one clinic day (the session's date), doctor, session, start hour,
    member level (the member's level when they booked), channel and lead time (how long before
    the session's start it was booked, in buckets), by outcome.

    ``booked``: appointments that held a slot (every status but cancelled, no-shows included:
    their slot was taken); ``cancelled``; ``no_show``; ``checked_in``: patients who arrived
    (checked in, completed or not); ``completed``. The cancellations by who cancelled them, as
    the appointment records it (``cancelled_by``, ``cancel_reason``): ``cancelled_by_member``
    (the account holder), ``cancelled_by_staff`` (anyone else), and MedBook itself (no user):
    ``cancelled_hold_expired`` (an unpaid hold ran out) and ``cancelled_suspended`` (the
    session was suspended, 停诊) — the two callers that cancel with no user."""

    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("level")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    lead_time = models.PositiveSmallIntegerField(
        _("booked ahead"), choices=LeadTime.choices, default=LeadTime.OVER_7_DAYS
    )
    booked = models.PositiveIntegerField(_("booked"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    no_show = models.PositiveIntegerField(_("no-shows"), default=0)
    checked_in = models.PositiveIntegerField(_("checked in"), default=0)
    completed = models.PositiveIntegerField(_("completed"), default=0)
    cancelled_by_member = models.PositiveIntegerField(_("cancelled by the member"), default=0)
    cancelled_by_staff = models.PositiveIntegerField(_("cancelled by staff"), default=0)
    cancelled_hold_expired = models.PositiveIntegerField(_("unpaid hold ran out"), default=0)
    cancelled_suspended = models.PositiveIntegerField(_("session suspended"), default=0)

    class Meta:
        verbose_name = _("daily booking figures")
        verbose_name_plural = _("daily booking figures")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "date",
                    "doctor",
                    "session",
                    "start_hour",
                    "level",
                    "channel",
                    "lead_time",
                ],
                name="dailybookingstat_unique_grain",
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailybookingstat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.doctor_id} {self.session} {self.level_id} {self.channel}"


class MoneyGrain(models.Model):
    """What the money rollups are kept by: the clinic day the money moved (a payment's
    ``paid_at``, a refund's ``completed_at``, in Asia/Shanghai; not the session's day), and
    the appointment behind the order: its doctor (with the department), channel and the
    member's level when they booked."""

    date = models.DateField(_("day of the payment or refund"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("level")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    class Meta:
        abstract = True


class DailyRevenueStat(MoneyGrain):
    """The money of one clinic day, gateway, doctor, level (when booked) and channel.

    ``payments``/``paid``: orders paid that day and their amounts (what the member paid);
    ``discount``: what the level's price factor took off those orders (fee − amount paid);
    ``refunds``/``refunded``: refunds completed that day (only completed ones: requested or
    failed refunds moved no money) and their own amounts, a partial refund by its part.
    Payments the gateway took for an order that had closed (paid late or twice) and that
    MedBook sent straight back (``Refund.stray_trade_no``) never were the clinic's money:
    they count in neither."""

    gateway = models.CharField(_("payment method"), max_length=16, choices=Gateway.choices)
    payments = models.PositiveIntegerField(_("orders paid"), default=0)
    paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=0)
    discount = models.DecimalField(_("discount cost"), max_digits=14, decimal_places=2, default=0)
    refunds = models.PositiveIntegerField(_("refunds"), default=0)
    refunded = models.DecimalField(_("refunded"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("daily revenue figures")
        verbose_name_plural = _("daily revenue figures")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "gateway", "doctor", "level", "channel"],
                name="dailyrevenuestat_unique_grain",
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailyrevenuestat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.gateway} {self.doctor_id} {self.level_id} {self.channel}"


class DailyPayerStat(MoneyGrain):
    """Who paid on one clinic day: a row per member, doctor, level (when booked) and channel,
    with how many orders they paid. It exists for one figure, the members who paid in a
    period: a distinct count cannot be summed from daily totals, and counting it from the raw
    orders would look up every order's level in the members' history at each page view. About
    one row per paid order, read by one ``COUNT(DISTINCT member)``."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    payments = models.PositiveIntegerField(_("orders paid"), default=0)

    class Meta:
        verbose_name = _("daily paying members")
        verbose_name_plural = _("daily paying members")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "member", "doctor", "level", "channel"],
                name="dailypayerstat_unique_grain",
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailypayerstat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.member_id} {self.doctor_id} {self.level_id}"


class DailyReleaseStat(SessionGrain):
    """The release (放号) of the sessions of one clinic day, doctor, session and start hour:
    how many were released (published or finished: not a draft, not suspended) and their
    slots; how many sold out (``Schedule.sold_out_at``: the first moment every slot was taken),
    by how long after their public release (reports.choices.SellOut: one column per bucket, the
    not sold out included); the time from release to sell-out in microseconds, summed over the
    sessions that sold out at or after their release (for the average); and the attempts the
    release gate refused as sold out (appointments.ReleaseDemand: where recorded) with the
    number of sessions that had any."""

    released = models.PositiveIntegerField(_("sessions released"), default=0)
    capacity = models.PositiveIntegerField(_("slots"), default=0)
    sold_out = models.PositiveIntegerField(_("sold out"), default=0)
    before_release = models.PositiveIntegerField(_("before the public release"), default=0)
    within_minute = models.PositiveIntegerField(_("within 1 minute"), default=0)
    within_ten_minutes = models.PositiveIntegerField(_("1–10 minutes"), default=0)
    within_hour = models.PositiveIntegerField(_("10 minutes – 1 hour"), default=0)
    within_day = models.PositiveIntegerField(_("1 hour – 1 day"), default=0)
    after_day = models.PositiveIntegerField(_("after a day"), default=0)
    not_sold_out = models.PositiveIntegerField(_("not sold out"), default=0)
    sold_out_after_us = models.BigIntegerField(
        _("time from release to sold out (µs, summed)"), default=0
    )
    refused = models.BigIntegerField(_("attempts refused as sold out"), default=0)
    sessions_refusing = models.PositiveIntegerField(_("sessions that refused attempts"), default=0)

    class Meta:
        verbose_name = _("daily release figures")
        verbose_name_plural = _("daily release figures")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "doctor", "session", "start_hour"],
                name="dailyreleasestat_unique_grain",
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailyreleasestat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.doctor_id} {self.session} {self.start_hour}h"


class DailyFlowStat(models.Model):
    """The patients' flow (候诊与接诊) of one clinic day (the session's date), doctor and hour
    of the clinic's clock: the hour the visit was completed (for a visit not completed, the
    hour of its call, else of its check-in). ``arrived``: patients checked in; ``waited``: of
    those, called (the time from check-in to call summed in ``wait_us``, microseconds);
    ``seen``: visits with both a call and a completion (the time from call to completion in
    ``visit_us``); ``completed``: visits completed, with or without a call. A call
    recorded before its check-in (or a completion before its call) is left out of the
    waits (the visit lengths)."""

    date = models.DateField(_("date"))
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    hour = models.PositiveSmallIntegerField(_("hour"))
    arrived = models.PositiveIntegerField(_("checked in"), default=0)
    waited = models.PositiveIntegerField(_("called"), default=0)
    wait_us = models.BigIntegerField(_("time waited (µs, summed)"), default=0)
    seen = models.PositiveIntegerField(_("visits timed"), default=0)
    visit_us = models.BigIntegerField(_("time with the doctor (µs, summed)"), default=0)
    completed = models.PositiveIntegerField(_("completed"), default=0)

    class Meta:
        verbose_name = _("daily flow figures")
        verbose_name_plural = _("daily flow figures")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "doctor", "hour"], name="dailyflowstat_unique_grain"
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailyflowstat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.doctor_id} {self.hour}h"


class RollupState(models.Model):
    """One row (pk 1): locked while a range is rebuilt, so two rebuilds never interleave, and
    telling when the figures were last refreshed."""

    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    first_day = models.DateField(_("first day refreshed"), null=True, blank=True)
    last_day = models.DateField(_("last day refreshed"), null=True, blank=True)

    class Meta:
        verbose_name = _("report refresh")
        verbose_name_plural = _("report refresh")

    def __str__(self) -> str:
        return f"{self.refreshed_at}"


def _export_storage():
    from django.core.files.storage import storages

    return storages["exports"]


class Export(models.Model):
    """A requested export of a dashboard (CSV or XLSX), written by a Celery job.

    The request writes this row and its job (the outbox, medbook.outbox) in one transaction, so
    the promise survives a broker that is down; a worker claims the row with a conditional
    UPDATE that sets ``claim`` and keeps ``heartbeat_at`` fresh while it writes, so a second
    delivery of the job does nothing and a worker that died is noticed (the sweep queues the
    export again). The file lives in the ``exports`` storage under an unguessable ``token``; it
    and the row are deleted after ``expires_at``. ``masked``: personal data in the file is
    masked (the requester may not see it in full)."""

    token = models.CharField(_("token"), max_length=43, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("requested by"),
    )
    dashboard = models.CharField(_("dashboard"), max_length=32)
    kind = models.CharField(_("content"), max_length=16, choices=ExportKind.choices)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    # What the page showed: the filter form's values (a custom range, ids) and, for the list
    # of exports, the names they stood for.
    filters = models.JSONField(_("filters"), default=dict)
    filter_names = models.JSONField(_("filter names"), default=dict)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")
    masked = models.BooleanField(_("personal data masked"), default=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), storage=_export_storage, max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    claim = models.CharField(_("claimed by run"), max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last sign of life"), default=timezone.now)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), db_index=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="export_progress_lte_100"
            ),
            # A second click while the same export is still on its way finds this one.
            models.UniqueConstraint(
                fields=["requester", "dashboard", "kind", "format", "fingerprint"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_one_active_per_request",
            ),
        ]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="export_requester_idx"),
            models.Index(
                fields=["status", "heartbeat_at"],
                name="export_active_idx",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]
        permissions = [
            ("download_any_export", _("Can download report exports others requested")),
        ]

    def __str__(self) -> str:
        return f"{self.dashboard} {self.kind} {self.format} ({self.pk})"

    @property
    def active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def channel_label(self) -> str:
        channel = self.filters.get("channel")
        return str(Channel(channel).label) if channel in Channel.values else ""

    @property
    def status_tone(self) -> str:
        return {
            ExportStatus.QUEUED: "wait",
            ExportStatus.RUNNING: "wait",
            ExportStatus.DONE: "ok",
            ExportStatus.FAILED: "full",
        }[self.status]


class DailyMemberStat(models.Model):
    """New members (会员注册) of one clinic day by the level they joined at: the day their
    account was registered (``registered_at``) in the clinic's time zone, and the level of their
    first history row (their level now when they have none: rows loaded in bulk).

    With :class:`DailyLevelChange` this is also the level mix: the members at a level at the
    end of a day are those who joined at it, plus those who moved to it, less those who moved
    away, on that day or before — sums of these rows, never a scan of the members."""

    date = models.DateField(_("date"))
    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("level")
    )
    signups = models.PositiveIntegerField(_("new members"), default=0)

    class Meta:
        verbose_name = _("daily new members")
        verbose_name_plural = _("daily new members")
        constraints = [
            models.UniqueConstraint(fields=["date", "level"], name="dailymemberstat_unique_grain")
        ]
        indexes = [models.Index(fields=["date"], name="dailymemberstat_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.level_id}: {self.signups}"


class DailyLevelChange(models.Model):
    """The members whose level changed on one clinic day, from one level to another: a row of
    the member's history whose level differs from the row before it (by time, then id), on the
    day of that history row in the clinic's time zone. A rise of ``level`` is an upgrade, a fall
    a downgrade (a correction of points, or staff setting a lower level)."""

    date = models.DateField(_("date"))
    from_level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("from level")
    )
    to_level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("to level")
    )
    changes = models.PositiveIntegerField(_("level changes"), default=0)

    class Meta:
        verbose_name = _("daily level changes")
        verbose_name_plural = _("daily level changes")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "from_level", "to_level"], name="dailylevelchange_unique_grain"
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailylevelchange_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.from_level_id}->{self.to_level_id}: {self.changes}"


class DailyPointsStat(models.Model):
    """The points ledger (积分流水) of one clinic day (the entry's time in the clinic's time
    zone), by the member's level at the time of the entry and the entry's reason: the points
    added (sum of the positive changes), taken (sum of the negative ones, as a positive number)
    and the number of entries."""

    date = models.DateField(_("date"))
    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("level")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=PointsReason.choices)
    points_added = models.PositiveBigIntegerField(_("points added"), default=0)
    points_taken = models.PositiveBigIntegerField(_("points taken"), default=0)
    entries = models.PositiveIntegerField(_("entries"), default=0)

    class Meta:
        verbose_name = _("daily points figures")
        verbose_name_plural = _("daily points figures")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "level", "reason"], name="dailypointsstat_unique_grain"
            )
        ]
        indexes = [models.Index(fields=["date"], name="dailypointsstat_date_idx")]

    def __str__(self) -> str:
        return (
            f"{self.date} {self.level_id} {self.reason}: +{self.points_added} -{self.points_taken}"
        )


class DailyActiveMember(models.Model):
    """One member active on one clinic day, by doctor (with the department), channel and the
    member's level at the time: they made an appointment that day (``created_at`` in the
    clinic's time zone; a booking they cancelled later still counts: they booked) or came to a
    visit that day (checked in to a session of that date). ``bookings`` and ``visits`` count
    which.

    A member active on several days is one member of the period, not several: a distinct count
    cannot be summed from daily totals, so this rollup keeps the members themselves (one row per
    member, day and grain — at most one per appointment made or visited), and the page counts
    distinct ``member_id`` over the period's rows. Exact for any range and any filter, and small
    beside the raw tables (no join, no look-up of levels at read time)."""

    date = models.DateField(_("date"))
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="+", verbose_name=_("level")
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    bookings = models.PositiveIntegerField(_("appointments made"), default=0)
    visits = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("daily active member")
        verbose_name_plural = _("daily active members")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "member", "doctor", "channel", "level"],
                name="dailyactivemember_unique_grain",
            )
        ]
        # (date, member, level): the period's distinct members, by day and by level, read
        # from the index alone (an index-only scan once vacuumed).
        indexes = [
            models.Index(fields=["date", "member", "level"], name="dailyactivemember_date_idx")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.member_id}"
