"""Cross-cutting middleware."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import trans_real

from .api.errors import error_body


class ClinicLanguageMiddleware:
    """Serve the clinic's language (Simplified Chinese) unless the visitor picked another one.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a clinic in
    China shows Chinese to everyone by default, and the language switch (a cookie) changes it.
    The API (``/api/``, and FHIR's ``/fhir/``) is the exception: an app has no language
    switch, so there the request's Accept-Language chooses (zh-hans or en; Chinese when it
    names neither); a member's request sent without one is answered in the member's saved
    language (members.api.permissions.IsMember).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path_info.startswith(("/api/", "/fhir/"))
        if api:
            language = self._accepted(request.headers.get("Accept-Language", ""))
        else:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ["Accept-Language" if api else "Cookie"])
        # An API view may answer in a member's saved language (members.api.permissions).
        response.headers.setdefault(
            "Content-Language", translation.get_language() if api else language
        )
        return response

    def _accepted(self, header: str) -> str:
        """The first supported language of an Accept-Language header, by its weights (en-US
        is en, zh-CN and zh-Hans are zh-hans), else the clinic's."""
        for code, _weight in trans_real.parse_accept_lang_header(header[:255]):
            if code == "*":
                break
            try:
                found = translation.get_supported_language_variant(code)
            except LookupError:
                found = "zh-hans" if code.startswith("zh") else ""
            if found in self.supported:
                return found
        return settings.LANGUAGE_CODE


# C0 controls, DEL and C1 controls. Posted text may hold tabs and line breaks (text areas);
# an address, its parameters and the names of posted fields may not.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def takes_raw_input(view: Callable) -> Callable:
    """Mark a view that must receive posted fields exactly as sent (InputPolicyMiddleware lets
    them through): it stores them raw and refuses bad ones itself."""
    view.takes_raw_input = True
    return view


class InputPolicyMiddleware:
    """One policy for every text input: a NUL byte or another control character in the path,
    a query parameter or a posted field is a 400 with a clear message, before any view (or the
    database, which refuses NUL) sees it. Tabs and line breaks are allowed in posted values."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _CONTROL.search(request.path) or _any(_CONTROL, request.GET.lists(), values=True):
            return self._refuse(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if getattr(view_func, "takes_raw_input", False):
            return None  # e.g. a gateway's notification: stored exactly as sent, then judged
        return self._refuse(request) if self._refused(request) else None

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        message = _(
            "The request contains a control character (such as a NUL byte) that no "
            "field accepts. Please remove it and try again."
        )
        if request.path_info.startswith("/api/"):  # the API's one error body, not a page
            return JsonResponse(error_body("invalid", message), status=400)
        return render(request, "400.html", {"message": message}, status=400)

    @staticmethod
    def _refused(request: HttpRequest) -> bool:
        if request.method != "POST" or request.content_type not in FORM_TYPES:
            return False
        if request.content_type == "multipart/form-data":
            request.body  # noqa: B018  (read it first: a view may still want the raw body)
        if _any(_CONTROL, request.POST.lists(), values=False):
            return True
        return _any(_CONTROL_BUT_WHITESPACE, request.POST.lists(), keys=False)


def _any(
    pattern: re.Pattern,
    items: Iterable[tuple[str, list]],
    *,
    keys: bool = True,
    values: bool = True,
) -> bool:
    for key, found in items:
        if keys and pattern.search(key):
            return True
        if values and any(isinstance(v, str) and pattern.search(v) for v in found):
            return True
    return False


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Every page needs a login unless its view is marked ``@login_not_required``.

    Django admin is left to its own check (staff only, its own login page), which every admin
    view runs; so is the API (``/api/``), which checks its bearer tokens and answers 401 in
    JSON instead of sending anyone to a login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(("/" + settings.ADMIN_URL, "/api/")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class HeadAsGetMiddleware:
    """HEAD is answered wherever GET is, as GET without the body (what Django's class-based
    views do), so uptime checkers see the page's real status and never a 405; function views
    need only allow GET."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            response.streaming_content = []
        else:
            response.content = b""
        return response


# Anonymous pages that show order or account data (the cashier's signed link, the pages of a
# code sent to a number): not stored either.
NO_STORE_VIEWS = frozenset(
    {"billing:sandbox_cashier", "members:password_reset_code", "members:login_code"}
)


class NoStoreMiddleware:
    """Nothing shown to a logged-in user, nor the anonymous pages in NO_STORE_VIEWS, is kept
    by a browser or a proxy: ``Cache-Control: no-store, private`` is added to whatever the view
    set (a view's own ``no-cache`` for a polled fragment stays; ``public`` becomes private)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if _logged_in(request) or (match is not None and match.view_name in NO_STORE_VIEWS):
            patch_cache_control(response, no_store=True, private=True)
        return response


def _logged_in(request: HttpRequest) -> bool:
    """A login is in the session (checked or not: a page answered without loading the user,
    such as the release gate's, is kept from caches all the same)."""
    session = getattr(request, "session", None)
    if session is not None and auth.SESSION_KEY in session:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class SecurityHeadersMiddleware:
    """The Content Security Policy (settings.MEDBOOK_CSP) on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.MEDBOOK_CSP)
        return response


SESSION_KIND = "medbook_kind"  # "staff" or "member", decided at login
SESSION_STARTED = "medbook_started"
SESSION_SEEN = "medbook_seen"
SESSION_EPOCH = "medbook_epoch"


def start_session(request: HttpRequest, user: object, *, staff: bool) -> None:
    """Called at login: the session's kind, start and generation."""
    now = int(time.time())
    request.session[SESSION_KIND] = "staff" if staff else "member"
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now
    # From the database: the object passed in may predate a logout elsewhere.
    epoch = get_user_model().objects.filter(pk=user.pk).values_list("session_epoch", flat=True)
    request.session[SESSION_EPOCH] = epoch.first() or 0


# Sent by pages that poll themselves (hx-headers): such requests do not count as activity.
POLL_HEADER = "X-MedBook-Poll"


class SessionPolicyMiddleware:
    """Ends sessions that were idle too long or lived too long (staff: 30 minutes idle, 12
    hours in all; members: configurable), and sessions of a user who logged out elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        # Before the view, not before every middleware: the release gate answers a booking
        # attempt without loading the login (billing.middleware).
        if SESSION_KIND not in request.session:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request, user)
            if expired:
                staff = request.session.get(SESSION_KIND) == "staff"
                logout(request)
                messages.info(request, _("You were logged out: %(why)s") % {"why": expired})
                target = reverse("staff:login" if staff else "account_login")
                if request.headers.get("HX-Request") == "true":
                    # A part of a page (e.g. the polled board): the whole page goes to log in.
                    return HttpResponse(status=204, headers={"HX-Redirect": target})
                return redirect(target)
        return None

    def _expired(self, request: HttpRequest, user: object) -> str:
        session = request.session
        now = int(time.time())
        if session.get(SESSION_EPOCH, 0) != getattr(user, "session_epoch", 0):
            return _("you logged out on another device.")
        staff = session.get(SESSION_KIND) == "staff"
        idle = (
            settings.MEDBOOK_STAFF_SESSION_IDLE_MINUTES
            if staff
            else settings.MEDBOOK_MEMBER_SESSION_IDLE_MINUTES
        )
        limit = (
            settings.MEDBOOK_STAFF_SESSION_MAX_MINUTES
            if staff
            else settings.MEDBOOK_MEMBER_SESSION_MAX_MINUTES
        )
        if now - session.get(SESSION_SEEN, now) > idle * 60:
            return _("the session was idle for too long.")
        if now - session.get(SESSION_STARTED, now) > limit * 60:
            return _("the session reached its maximum length.")
        # A page polling itself (header POLL_HEADER, e.g. today's board) is nobody at work:
        # it does not keep a session alive. Other requests are written at most once a minute.
        polled = request.headers.get(POLL_HEADER) == "1"
        if not polled and now - session.get(SESSION_SEEN, now) > 60:
            session[SESSION_SEEN] = now
        return ""


class StaffMfaMiddleware:
    """Staff (console roles, Django admin) must have two-factor authentication set up: until
    they do, the console and admin send them to set up an authenticator app."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.MEDBOOK_STAFF_MFA_REQUIRED and self._guarded(request.path):
            user = getattr(request, "user", None)
            staff = user is not None and user.is_authenticated and self._is_staff(request, user)
            if staff and not is_mfa_enabled(user):
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _guarded(path: str) -> bool:
        admin = "/" + settings.ADMIN_URL
        if path.startswith(
            (admin + "login/", admin + "logout/", "/staff/login/", "/staff/logout/")
        ):
            return False
        return path.startswith(("/staff/", admin))

    @staticmethod
    def _is_staff(request: HttpRequest, user: object) -> bool:
        if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
            return True
        return request.session.get(SESSION_KIND) == "staff"
