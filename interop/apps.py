from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    """Interoperability: MedBook's records as FHIR R4 resources (read and search, /fhir/)."""

    name = "interop"
    verbose_name = _("FHIR interface")
