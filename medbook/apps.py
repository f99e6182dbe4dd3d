from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


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

        # Plumbing after every migrate: the staff groups as medbook/roles.py says, and the
        # periodic jobs of medbook/jobs.py that are not in the database yet.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="medbook.ensure_roles")
        post_migrate.connect(
            ensure_periodic_tasks, sender=self, dispatch_uid="medbook.ensure_periodic_tasks"
        )
