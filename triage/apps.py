from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    """Symptom triage (智能导诊) and "doctors for you": recommendations over the catalogue."""

    name = "triage"
    verbose_name = _("Triage and recommendations")
