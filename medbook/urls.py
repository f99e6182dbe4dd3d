from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from appointments.staff_views import waiting_room

admin.site.site_header = _("MedBook administration")
admin.site.site_title = _("MedBook")
admin.site.index_title = _("Clinic data")

urlpatterns = [
    path("", include("appointments.urls")),
    path("", include("billing.urls")),
    path("", include("members.urls")),  # before allauth: password reset by text, not e-mail
    path("accounts/", include("allauth.urls")),
    path("staff/", include("medbook.staff_urls")),
    path("waiting/<slug:code>/", waiting_room, name="waiting_room"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path(settings.ADMIN_URL, admin.site.urls),
]
