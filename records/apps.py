from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    """Visit records (门诊病历): what the doctor wrote at a visit, append-only with amendments."""

    name = "records"
    verbose_name = _("Visit records")
