"""A member's privacy pages: download my data, close my account."""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from medbook import refusals
from members.decorators import member_required

from . import erasure, export
from .forms import AccountClosureForm


@require_http_methods(["GET", "POST"])
@member_required
def data_export(request: HttpRequest) -> HttpResponse:
    """GET: what the download holds; POST: the ZIP (logged, a few a day)."""
    if request.method == "POST":
        with refusals.shown(request) as refusal:
            filename, content = export.export_member_data(member=request.member, request=request)
        if not refusal:
            response = HttpResponse(content, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        return render(
            request, "privacy/export.html", {"sections": export.SECTIONS}, status=refusal.status
        )
    return render(request, "privacy/export.html", {"sections": export.SECTIONS})


@require_http_methods(["GET", "POST"])
@member_required
def close_account(request: HttpRequest) -> HttpResponse:
    """The member closes their account: password again and a tick; refused (with what to do)
    while an appointment is ahead or money is in flight."""
    member = request.member
    blocked = erasure.erasure_refusal(member=member)
    form = AccountClosureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if not ratelimit.consume(request, action="reauthenticate", user=request.user):
            form.add_error(None, _("Too many attempts. Please wait a minute."))
            status = 429
        elif form.is_valid():
            with refusals.shown(request, form=form) as refusal:
                erasure.close_account(
                    member=member, password=form.cleaned_data["password"], request=request
                )
            if not refusal:
                logout(request)
                messages.success(
                    request,
                    _("Your account is closed and your personal data erased. Thank you."),
                )
                return redirect("appointments:home")
            status = refusal.status
            blocked = erasure.erasure_refusal(member=member)
    return render(request, "privacy/close.html", {"form": form, "blocked": blocked}, status=status)
