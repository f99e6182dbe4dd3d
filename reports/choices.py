from django.db import models
from django.utils.translation import gettext_lazy as _


class Preset(models.TextChoices):
    """The dashboards' date range presets, each ending today (the clinic's date)."""

    TODAY = "today", _("Today")  # 今天
    LAST_7 = "7d", _("Last 7 days")  # 近7天
    LAST_30 = "30d", _("Last 30 days")  # 近30天
    MONTH = "month", _("This month")  # 本月
    CUSTOM = "custom", _("Custom")  # 自定义


class LeadTime(models.IntegerChoices):
    """How long before the session's start an appointment was made (session start − booked
    at), in the clinic's time: under 24 hours, 24 to 72 hours, 72 hours to 7 days, longer."""

    UNDER_24_HOURS = 1, _("Under 24 hours")  # 24小时内
    DAYS_1_3 = 2, _("1–3 days")  # 1–3天
    DAYS_3_7 = 3, _("3–7 days")  # 3–7天
    OVER_7_DAYS = 4, _("Over 7 days")  # 7天以上

    @classmethod
    def bounds(cls) -> list[tuple[int, int]]:
        """(bucket, hours): a booking made at least ``hours`` before the start is in ``bucket``
        or a later one; checked from the longest lead down."""
        return [(cls.OVER_7_DAYS, 7 * 24), (cls.DAYS_3_7, 72), (cls.DAYS_1_3, 24)]


class Canceller(models.IntegerChoices):
    """Who cancelled an appointment (see reports.services.canceller)."""

    MEMBER = 1, _("The member")  # 会员本人
    STAFF = 2, _("Staff")  # 工作人员
    HOLD_EXPIRED = 3, _("MedBook: hold ran out")  # 系统：未按时支付
    SUSPENDED = 4, _("MedBook: session suspended")  # 系统：停诊


class SellOut(models.IntegerChoices):
    """How long after its public release (Schedule.release_at) a session first sold out: before
    it (the members' levels that may book early took every slot), within a minute, ten minutes,
    an hour, a day, later, or not (yet)."""

    BEFORE_RELEASE = 1, _("Before the public release")  # 公开放号前
    MINUTE = 2, _("Within 1 minute")  # 1分钟内
    TEN_MINUTES = 3, _("1–10 minutes")  # 1–10分钟
    HOUR = 4, _("10 minutes – 1 hour")  # 10分钟–1小时
    DAY = 5, _("1 hour – 1 day")  # 1小时–1天
    LATER = 6, _("After a day")  # 1天以后
    NEVER = 7, _("Not sold out")  # 未约满

    @classmethod
    def bounds(cls) -> list[tuple[int, int]]:
        """(bucket, seconds): a session sold out less than ``seconds`` after its release (and
        not before it) is in ``bucket`` or an earlier one."""
        return [(cls.MINUTE, 60), (cls.TEN_MINUTES, 600), (cls.HOUR, 3600), (cls.DAY, 86400)]

    @classmethod
    def columns(cls) -> dict[int, str]:
        """The release rollup's column counting each bucket."""
        return {
            cls.BEFORE_RELEASE: "before_release",
            cls.MINUTE: "within_minute",
            cls.TEN_MINUTES: "within_ten_minutes",
            cls.HOUR: "within_hour",
            cls.DAY: "within_day",
            cls.LATER: "after_day",
            cls.NEVER: "not_sold_out",
        }


class ExportStatus(models.TextChoices):
    """Where an export stands: waiting for a worker, being written, ready to download, or
    given up (its error says why)."""

    QUEUED = "queued", _("Waiting")  # 排队中
    RUNNING = "running", _("Being prepared")  # 生成中
    DONE = "done", _("Ready")  # 已完成
    FAILED = "failed", _("Failed")  # 失败


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (XLSX)")
    CSV = "csv", _("CSV")


class ExportKind(models.TextChoices):
    """What an export holds: the dashboard's tables (what the page shows), or the appointments
    behind them, one row each (the dashboards that have such a list)."""

    TABLES = "tables", _("Tables of the page")  # 页面报表
    APPOINTMENTS = "appointments", _("Appointment list")  # 预约明细
