"""The reports in the staff console (namespace ``staff``, under /staff/reports/): the list, and
one address per dashboard (reports.dashboards)."""

from django.urls import path

from . import staff_views
from .dashboards import DASHBOARDS

urlpatterns = [
    path("", staff_views.index, name="reports"),
    *(
        path(f"{spec.slug}/", staff_views.dashboard, {"slug": spec.slug}, name=spec.url_name)
        for spec in DASHBOARDS
    ),
]
