"""allauth's rate limits, wherever they are hit, answer 429 with a page that says why."""

from __future__ import annotations

from collections.abc import Callable

from allauth.core.exceptions import RateLimited
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
