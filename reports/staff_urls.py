"""The reports in the staff console (namespace ``staff``, under /staff/reports/): the list, one
address per dashboard (reports.dashboards), and the exports: asked for (POST), listed, each one's
progress and its download, by an unguessable token."""

from django.urls import path

from . import staff_views
from .dashboards import DASHBOARDS

urlpatterns = [
    path("", staff_views.index, name="reports"),
    path("exports/", staff_views.export_list, name="reports_exports"),
    path("exports/new/", staff_views.export_new, name="reports_export_new"),
    path("exports/<str:token>/", staff_views.export_status, name="reports_export"),
    path(
        "exports/<str:token>/download/",
        staff_views.export_download,
        name="reports_export_download",
    ),
    *(
        path(f"{spec.slug}/", staff_views.dashboard, {"slug": spec.slug}, name=spec.url_name)
        for spec in DASHBOARDS
    ),
]
