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

from django.db import models
from django.utils.translation import gettext_lazy as _

from appointments.choices import Channel, Session
from appointments.models import Department, Doctor
from members.models import Member, MemberLevel, PointsReason

from .choices import LeadTime


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
