from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """A member's rights over their data (PIPL): download it, have the account closed and the
    personal data erased. On top of billing: both read or change every app's rows."""

    name = "privacy"
    verbose_name = _("Privacy")
