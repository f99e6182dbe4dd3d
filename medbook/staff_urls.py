"""The staff console's frame under /staff/: home, logout, the jobs page and the operation log.

The root URLconf gathers the console (namespace ``staff``) from this module and each app's own
``staff_urls``; nothing here imports an app."""

from django.urls import path

from . import staff_views

urlpatterns = [
    path("", staff_views.home, name="home"),
    path("logout/", staff_views.StaffLogoutView.as_view(), name="logout"),
    path("jobs/", staff_views.jobs, name="jobs"),
    path("audit/", staff_views.operation_log, name="operation_log"),
    path("clinic/", staff_views.clinic_profile, name="clinic"),
    path("webhooks/", staff_views.webhooks, name="webhooks"),
    path("webhooks/new/", staff_views.webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/", staff_views.webhook, name="webhook"),
    path("webhooks/<int:pk>/edit/", staff_views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/rotate/", staff_views.webhook_rotate, name="webhook_rotate"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery>/resend/",
        staff_views.webhook_resend,
        name="webhook_resend",
    ),
]
