from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MedbookConfig(AppConfig):
    """MedBook's cross-cutting parts that need tables: the operation log (操作日志), roles."""

    name = "medbook"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import audit_signals
        from .jobs import ensure_periodic_tasks
        from .roles import ensure_roles

        audit_signals.connect()
        from .constraints import install

        install()  # constraints' messages for users, never their names
        from .metrics import connect_celery_signals

        connect_celery_signals()
        _reconnect_quickly()
        _name_third_party_tables()
        # The API's keys are read now, so a bad MEDBOOK_API_JWT_KEYS stops start-up (naming
        # what is wrong) instead of failing the first login.
        from .api.tokens import key_ring

        key_ring()

        # Plumbing after every migrate: the staff groups as medbook/roles.py says, and the
        # periodic jobs of medbook/jobs.py that are not in the database yet.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="medbook.ensure_roles")
        post_migrate.connect(
            ensure_periodic_tasks, sender=self, dispatch_uid="medbook.ensure_periodic_tasks"
        )


def _name_third_party_tables() -> None:
    """allauth's authenticator table gives Django no name to translate (admin showed
    "Authenticators" in Chinese) and its fields none either. Names set on ``_meta`` and on a
    field are for display only: migrations read the model's own Meta and the names its fields
    were declared with, so this asks allauth for no migration."""
    from allauth.mfa.models import Authenticator

    Authenticator._meta.verbose_name = _("authenticator")
    Authenticator._meta.verbose_name_plural = _("authenticators")
    labels = {
        "user": _("login"),
        "type": pgettext_lazy("authenticator", "type"),
        "data": pgettext_lazy("authenticator", "data"),
        "created_at": _("created"),
        "last_used_at": _("last used"),
    }
    for name, label in labels.items():
        Authenticator._meta.get_field(name).verbose_name = label


def _reconnect_quickly() -> None:
    """psycopg's pool retries a failed connection with a doubling delay (1, 2, 4, 8 … s), so
    after a 20-second outage it could wait another 10 s before trying again; MedBook retries
    every half second instead (a failed attempt is one refused or timed-out connect)."""
    from psycopg_pool.base import AttemptWithBackoff

    AttemptWithBackoff.INITIAL_DELAY = 0.5
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
