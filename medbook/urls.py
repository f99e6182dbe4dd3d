from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from medbook.staff import safe_next


def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """Django admin logs in through the staff login (password, then the authenticator code).

    ``next`` is followed only when it is an address on this site."""
    target = safe_next(request, request.GET.get("next"), default=reverse("admin:index"))
    if request.user.is_authenticated:
        if not request.user.is_staff:
            raise PermissionDenied
        return redirect(target)
    return redirect_to_login(target, reverse("staff:login"))


admin.site.login = admin_login
admin.site.site_header = _("MedBook administration")
admin.site.site_title = _("MedBook")
admin.site.index_title = _("Clinic data")


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and bots that ask for /favicon.ico without reading the page's icon link."""
    return redirect(static("img/favicon.svg"), permanent=True)


# The staff console, one namespace gathered from the frame and each app's own staff URLs.
STAFF_CONSOLE = [
    path("", include("medbook.staff_urls")),
    path("", include("members.staff_urls")),
    path("", include("appointments.staff_urls")),
    path("", include("billing.staff_urls")),
    path("", include("records.staff_urls")),
    path("reports/", include("reports.staff_urls")),
    path("", include("identity.staff_urls")),
]

# The API (/api/): its description (schema, docs) and version 1, gathered from each app's own
# API URLs into one namespace.
API = [
    path("", include("medbook.api.urls")),
    path("v1/", include("members.api.urls")),
    path("v1/", include("appointments.api.urls")),
    path("v1/", include("billing.api.staff")),  # completing a visit (awards points)
    path("v1/", include("billing.api.urls")),
]

urlpatterns = [
    path("api/", include((API, "api"))),
    path("fhir/", include("interop.urls")),  # FHIR R4 read API (interop/)
    path("", include("appointments.urls")),
    path("", include("billing.urls")),
    path("", include("triage.urls")),
    path("", include("records.urls")),
    path("", include("members.urls")),  # before allauth: password reset by text, not e-mail
    path("", include("privacy.urls")),
    path("", include("identity.urls")),
    path("accounts/", include("allauth.urls")),
    path("staff/", include((STAFF_CONSOLE, "staff"))),
    path("", include("appointments.waiting_urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path(settings.ADMIN_URL, admin.site.urls),
]

# A database outage is a 503 with Retry-After (medbook/failures.py), anything else a 500.
handler500 = "medbook.failures.server_error"
handler400 = "medbook.error_pages.bad_request"
handler403 = "medbook.error_pages.permission_denied"
handler404 = "medbook.error_pages.page_not_found"
