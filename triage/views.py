"""The triage page (public) and the "doctors for you" fragment (members)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from appointments.selectors import viewing_member

from . import selectors
from .forms import SymptomsForm
from .scoring import MAX_CHARS

# Examples a visitor can try with one tap (the demo's departments).
EXAMPLES = ["胸闷 心慌 两天", "孩子发烧38.5度，咳嗽", "牙疼得睡不着", "膝盖疼，上下楼更明显"]


@login_not_required
@require_http_methods(["GET", "POST"])
def triage_page(request: HttpRequest) -> HttpResponse:
    """Describe symptoms, get departments and doctors with the reasons. The description is
    posted, not put in the address: symptoms are health data and stay out of access logs,
    browser history and Referer headers. Bad input is a 400 with the form and its message."""
    now = timezone.now()
    member = viewing_member(user=request.user)
    context: dict[str, object] = {"examples": EXAMPLES, "max_chars": MAX_CHARS}
    status = 200
    if request.method == "POST":
        form = SymptomsForm(request.POST)
        if form.is_valid():
            context["result"] = selectors.triage_result(text=form.cleaned_data["text"], now=now)
            form = SymptomsForm(initial={"symptoms": form.cleaned_data["text"]})
        else:
            status = 400
    else:
        form = SymptomsForm()
    context["form"] = form
    if member is not None:
        context["suggestions"] = selectors.doctors_for_member(member=member, now=now)
        context["show_for_you"] = True
    response = render(request, "triage/triage.html", context, status=status)
    add_never_cache_headers(response)
    return response


@require_GET
def for_you(request: HttpRequest) -> HttpResponse:
    """The "doctors for you" block of the home page, loaded after it (HTMX) so the home page
    costs no more queries; staff logins (not members) get nothing to show (204)."""
    member = viewing_member(user=request.user)
    if member is None:
        return HttpResponse(status=204)
    suggestions = selectors.doctors_for_member(member=member, now=timezone.now())
    response = render(request, "triage/partials/_for_you.html", {"suggestions": suggestions})
    add_never_cache_headers(response)
    return response
