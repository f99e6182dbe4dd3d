from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from .models import Schedule
        from .signals import forget_stock

        post_save.connect(forget_stock, sender=Schedule, dispatch_uid="appointments.forget_stock")
