"""Consent pages: the public agreements (terms, privacy policy, sensitive-information consent)
and the pages where a member accepts a new version or the sensitive-information consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import consents
from .consent import SIGNUP_KINDS, AgreementKind
from .decorators import member_required
from .forms import ConsentForm


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_not_required
@require_GET
def legal(request: HttpRequest, kind: str) -> HttpResponse:
    """The current version of an agreement, for anyone (linked from sign-up and the footer)."""
    if kind not in AgreementKind.values:
        raise Http404("no such document")
    agreement = consents.current_agreement(kind=kind)
    if agreement is None:
        raise Http404("not published")
    return render(request, "members/legal.html", {"agreement": agreement})


def _consent_page(
    request: HttpRequest, *, kinds: tuple[str, ...], template: str, after: str
) -> HttpResponse:
    pending = consents.pending_kinds(user=request.user, kinds=kinds)
    target = _next(request)
    if not pending:
        if set(kinds) == set(SIGNUP_KINDS):
            request.session.pop(consents.PENDING_SESSION_KEY, None)
        return HttpResponseRedirect(target)
    form = ConsentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            consents.accept(user=request.user, kinds=[a.kind for a in pending], request=request)
            consents.has_sensitive_consent(user=request.user, session=request.session)
            if set(kinds) == set(SIGNUP_KINDS):
                request.session.pop(consents.PENDING_SESSION_KEY, None)
            messages.success(request, after)
            return HttpResponseRedirect(target)
        status = 400
    return render(
        request,
        template,
        {"agreements": pending, "form": form, "next": target},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@member_required
def consent(request: HttpRequest) -> HttpResponse:
    """A new version of the terms or privacy policy since the member last agreed: shown at
    login, before anything else (members.middleware.ConsentMiddleware)."""
    return _consent_page(
        request,
        kinds=SIGNUP_KINDS,
        template="members/consent.html",
        after=_("Thank you. Your consent is recorded."),
    )


@require_http_methods(["GET", "POST"])
@member_required
def consent_sensitive(request: HttpRequest) -> HttpResponse:
    """The separate consent to process sensitive personal information (health data), asked
    before the first booking (members.decorators.sensitive_consent_required)."""
    return _consent_page(
        request,
        kinds=(AgreementKind.SENSITIVE,),
        template="members/consent_sensitive.html",
        after=_("Thank you. You can now book."),
    )
