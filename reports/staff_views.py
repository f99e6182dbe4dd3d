"""The reports' pages in the staff console: the list of dashboards and each dashboard (one view
for all, described in reports.dashboards), and their exports: asked for on a dashboard, their
progress (polled by HTMX), the list of a login's exports and the download."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from medbook.errors import Invalid
from medbook.staff import staff_required

from . import charts, exports
from .choices import ExportKind
from .dashboards import BY_SLUG, DASHBOARDS
from .forms import BookingFilterForm, ExportForm
from .selectors.exports import downloadable_export, export_for, recent_exports

PERMISSION = "reports.view_reports"


@require_GET
@staff_required(PERMISSION, hidden_from_members=True)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"dashboards": DASHBOARDS})


@require_GET
@staff_required(PERMISSION, hidden_from_members=True)
def dashboard(request: HttpRequest, *, slug: str) -> HttpResponse:
    """A dashboard for the period and filters in the query string (400 with the form's errors
    when they don't make sense)."""
    spec = BY_SLUG[slug]
    today = timezone.localdate()
    form = BookingFilterForm(request.GET, today=today, only=spec.filters)
    if not form.is_valid():
        return render(request, spec.template, {"form": form, "spec": spec}, status=400)
    page = spec.build(form.filters(), today)
    return render(
        request,
        spec.template,
        {
            "form": form,
            "spec": spec,
            "dashboard": page.dashboard,
            "headline": page.headline,
            "charts": page.charts,
            "tables": page.tables,
            "charts_top": charts.TOP_DOCTORS,
            "export_filters": form.export_data(),
            "export_kinds": export_kinds(spec),
        },
    )


def export_kinds(spec) -> list[tuple[str, str]]:
    """What a dashboard's page offers to export: its tables, and its list of records if any."""
    kinds = [(ExportKind.TABLES.value, ExportKind.TABLES.label)]
    if spec.detail is not None:
        kinds.append((ExportKind.APPOINTMENTS.value, spec.detail.title))
    return kinds


@require_POST
@staff_required(PERMISSION, hidden_from_members=True)
def export_new(request: HttpRequest) -> HttpResponse:
    """Ask for an export of a dashboard with the filters it showed (400, writing nothing,
    when they don't make sense). An HTMX request gets the export's progress in place; without
    JavaScript the browser is sent to the export's page."""
    choice = ExportForm(request.POST, dashboards=list(BY_SLUG))
    spec = BY_SLUG.get(request.POST.get("dashboard", ""))
    only = {"only": spec.filters} if spec is not None else {}
    form = BookingFilterForm(request.POST, today=timezone.localdate(), **only)
    if not (choice.is_valid() and form.is_valid()):
        errors = [*choice.errors.values(), *form.errors.values()]
        raise Invalid(" ".join(str(message) for messages in errors for message in messages))
    export, _created = exports.request_export(
        by=request.user,
        dashboard=BY_SLUG[choice.cleaned_data["dashboard"]],
        kind=choice.cleaned_data["kind"],
        export_format=choice.cleaned_data["format"],
        filters=form.export_data(),
        filter_names=form.names(),
        language=request.LANGUAGE_CODE,
    )
    if request.htmx:
        return render(request, "reports/partials/_export.html", {"export": export})
    return redirect("staff:reports_export", token=export.token)


@require_GET
@staff_required(PERMISSION, hidden_from_members=True)
def export_list(request: HttpRequest) -> HttpResponse:
    """The login's recent exports; the list refreshes itself while one is on its way."""
    items = list(recent_exports(user=request.user))
    context = {
        "exports": [(item, BY_SLUG.get(item.dashboard)) for item in items],
        "active": any(item.active for item in items),
        "export_keep_hours": settings.MEDBOOK_EXPORT_KEEP_HOURS,
    }
    if request.htmx:
        return render(request, "reports/partials/_export_list.html", context)
    return render(request, "reports/exports.html", context)


# The export's own pages answer its requester (and staff who may download anyone's); anyone
# else, members included, is told there is no such export.
staff_login_required = login_required(login_url=reverse_lazy("staff:login"))


@require_GET
@staff_login_required
def export_status(request: HttpRequest, *, token: str) -> HttpResponse:
    """One export: its progress while it is written, then its download link."""
    export = export_for(user=request.user, token=token)
    if request.htmx:
        return render(request, "reports/partials/_export.html", {"export": export})
    return render(request, "reports/export.html", {"export": export})


@require_GET
@staff_login_required
def export_download(request: HttpRequest, *, token: str) -> FileResponse:
    """The export's file (the download is written to the operation log)."""
    export = downloadable_export(user=request.user, token=token)
    content = exports.open_for_download(export=export, by=request.user, request=request)
    return FileResponse(content, as_attachment=True, filename=export.file_name)
