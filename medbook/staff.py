"""Who may enter the staff console (``staff_required``), safe ``next`` addresses and the staff's
kept searches. The console's own pages are in :mod:`medbook.staff_views`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]

# Any one of these makes a login a staff login (front desk, doctor, clinic admin or finance).
CONSOLE_PERMISSIONS = (
    "appointments.check_in_appointment",
    "appointments.run_queue",
    "appointments.change_schedule",
    "reports.view_reports",
)


def safe_next(request: HttpRequest, target: str | None, *, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: a ``next`` parameter never
    sends anyone off-site (nor to a relative name that is no address)."""
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def is_staff_user(user) -> bool:
    return user.is_authenticated and any(user.has_perm(p) for p in CONSOLE_PERMISSIONS)


def staff_required(*perms: str, hidden_from_members: bool = False) -> Callable[[View], View]:
    """Console pages: anonymous visitors log in first; logins without ``perms`` (all of them)
    get a 403 — or, with ``hidden_from_members``, a member's login (no console role at all) is
    told the page does not exist (the reports: a member learns nothing of what the clinic
    measures). Pages are never stored by browsers."""

    def decorator(view: View) -> View:
        @login_required(login_url=reverse_lazy("staff:login"))
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            staff = is_staff_user(request.user)
            if hidden_from_members and not staff:
                raise Http404("not a console page for members")
            if not staff or not all(request.user.has_perm(p) for p in perms):
                raise PermissionDenied(_("Your role does not include this page."))
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            return response

        return wrapped

    return decorator


# Searches staff posted (member search, check-in look-up), kept in the session under a short
# random token so that the page of results, its pages and the way back have an address that
# holds no phone or ID number (those end up in access logs and browser history).
SEARCHES = "medbook_staff_searches"
SEARCH_SECONDS = 30 * 60
SEARCHES_KEPT = 10


def stash_search(request: HttpRequest, *, kind: str, data: dict) -> str:
    """Keep ``data`` (JSON-able, and no full phone or ID number) and return its token."""
    now = int(time.time())
    kept = {
        token: entry
        for token, entry in request.session.get(SEARCHES, {}).items()
        if entry.get("at", 0) > now - SEARCH_SECONDS
    }
    newest = sorted(kept.items(), key=lambda item: item[1]["at"])[-(SEARCHES_KEPT - 1) :]
    token = secrets.token_urlsafe(9)
    request.session[SEARCHES] = {**dict(newest), token: {"kind": kind, "at": now, "data": data}}
    return token


def stashed_search(request: HttpRequest, *, kind: str, token: str | None) -> dict | None:
    """The search kept under ``token``, or None when there is none (or it expired)."""
    entry = request.session.get(SEARCHES, {}).get(token or "")
    if not entry or entry.get("kind") != kind or entry["at"] <= time.time() - SEARCH_SECONDS:
        return None
    return entry["data"]
