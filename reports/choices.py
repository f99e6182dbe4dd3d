from django.db import models
from django.utils.translation import gettext_lazy as _


class Preset(models.TextChoices):
    """The dashboards' date range presets, each ending today (the clinic's date)."""

    TODAY = "today", _("Today")  # 今天
    LAST_7 = "7d", _("Last 7 days")  # 近7天
    LAST_30 = "30d", _("Last 30 days")  # 近30天
    MONTH = "month", _("This month")  # 本月
    CUSTOM = "custom", _("Custom")  # 自定义
