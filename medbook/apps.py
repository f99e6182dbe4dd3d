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
    """Names other packages leave in English. allauth's authenticator table gives Django no
    name to translate (admin showed "Authenticators" in Chinese) and its fields none either;
    django-celery-beat names its task field in English only; more below. Names set on
    ``_meta`` and on a field are for display only: migrations read the model's own Meta and the
    names its fields were declared with, so this asks the packages for no migration."""
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
    # django-celery-beat's task field is named in English only ("Task Name").
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    PeriodicTask._meta.get_field("task").verbose_name = _("task name")
    # ... and its crontab as "0 2 * * * (m/h/dM/MY/d) Asia/Shanghai" (admin's titles, the
    # task list): the expression and when it runs, in words of the reader's language.
    CrontabSchedule.__str__ = _crontab_str
    # django-simple-history names each history table "historical <name>" in English, and
    # Django's login sessions share their name with the clinic's sessions (上午/下午) in our
    # catalogue: both read wrong in the permission lists of roles and logins.
    from django.apps import apps
    from django.contrib.sessions.models import Session
    from django.utils.text import format_lazy

    for model in apps.get_models():
        original = getattr(model, "instance_type", None)
        if original is not None and model.__name__ == f"Historical{original.__name__}":
            name = format_lazy(_("history of {}"), original._meta.verbose_name)
            model._meta.verbose_name = model._meta.verbose_name_plural = name
    apps.get_app_config("sessions").verbose_name = pgettext_lazy("login", "Sessions")
    Session._meta.verbose_name = pgettext_lazy("login", "session")
    Session._meta.verbose_name_plural = pgettext_lazy("login", "sessions")


def _crontab_str(cron) -> str:
    from .jobs import crontab_expression, crontab_in_words

    return f"{crontab_expression(cron)} · {crontab_in_words(cron)}"


def _reconnect_quickly() -> None:
    """psycopg's pool retries a failed connection with a doubling delay (1, 2, 4, 8 … s), so
    after a 20-second outage it could wait another 10 s before trying again; MedBook retries
    every half second instead (a failed attempt is one refused or timed-out connect)."""
    from psycopg_pool.base import AttemptWithBackoff

    AttemptWithBackoff.INITIAL_DELAY = 0.5
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
