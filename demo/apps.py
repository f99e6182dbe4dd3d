from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo clinic and its logins (management commands only: no models, no URLs).

    It may use every app; no app imports it."""

    name = "demo"
    verbose_name = _("Demo")
