from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import catalogue_cache
        from .models import Department, Doctor, Schedule
        from .signals import forget_stock

        post_save.connect(forget_stock, sender=Schedule, dispatch_uid="appointments.forget_stock")
        # The cached catalogue and doctor pages rebuild after a committed change (plumbing).
        for model in (Department, Doctor):
            for signal in (post_save, post_delete):
                signal.connect(catalogue_cache.on_catalogue_saved, sender=model, weak=False)
        for signal in (post_save, post_delete):
            signal.connect(catalogue_cache.on_schedule_saved, sender=Schedule, weak=False)
