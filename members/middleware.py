"""allauth's rate limits, wherever they are hit, answer 429 with a page that says why."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.core.exceptions import RateLimited
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def rate_limited_response(request: HttpRequest) -> HttpResponse:
    """The 429 page: too many attempts, wait a little (used by allauth's own 429 too)."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response


class RateLimitedMiddleware:
    """allauth raises :class:`RateLimited` from deep inside its flows (a code texted to the same
    number within 30 seconds: a second sign-up, a second login of an unverified member, a
    number change); nobody above catches it, so it would be a 500. Here it becomes a 429."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return rate_limited_response(request)
        return None


class ConsentMiddleware:
    """A member who logged in without having accepted the current terms or privacy policy
    (a new version was published since) is sent to the consent page, then back; the login hook
    (members.consents.mark_pending_at_login) sets the session mark this reads, so a request
    without it costs nothing. Staff are never marked. The consent and legal pages, logging out,
    the language switch, the data download, closing the account and the API stay reachable."""

    ALLOWED_NAMES = frozenset(
        {
            "members:consent",
            "members:legal",
            "account_logout",
            "set_language",
            # Not agreeing is a choice too: take one's data and close the account.
            "privacy:export",
            "privacy:close",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        from .consents import PENDING_SESSION_KEY

        session = getattr(request, "session", None)
        if session is None or not session.get(PENDING_SESSION_KEY):
            return None
        match = request.resolver_match
        if match is None or match.view_name in self.ALLOWED_NAMES:
            return None
        if request.path.startswith(("/api/", "/static/", "/" + settings.ADMIN_URL)):
            return None
        if not request.user.is_authenticated:
            return None
        return redirect_to_consent(request, "members:consent")


def redirect_to_consent(request: HttpRequest, view_name: str) -> HttpResponse:
    """303 to the consent page ``view_name``, which sends the member back to this page (for a
    form post: the page it came from, as the form's data is not kept)."""
    target = request.get_full_path() if request.method == "GET" else request.path
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(f"{reverse(view_name)}?{urlencode({'next': target})}")
    response.status_code = 303
    return response


class LanguagePreferenceMiddleware:
    """A member who switches the site's language (``set_language``) keeps it as their
    language for texts and e-mails (``Member.language``). Other requests cost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code < 400
            and request.user.is_authenticated
            and request.resolver_match is not None
            and request.resolver_match.view_name == "set_language"
        ):
            from .services import set_language_preference

            set_language_preference(user=request.user, language=request.POST.get("language", ""))
        return response
