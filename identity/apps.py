from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    """Real-name verification (实名认证): a patient's name and ID number checked with an
    identity provider behind an adapter, or by the front desk in person."""

    name = "identity"
    verbose_name = _("Real-name verification")
    default_auto_field = "django.db.models.BigAutoField"
