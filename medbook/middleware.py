"""Cross-cutting middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ClinicLanguageMiddleware:
    """Serve the clinic's language (Simplified Chinese) unless the visitor picked another one.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a clinic in
    China shows Chinese to everyone by default, and the language switch (a cookie) changes it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Every page needs a login unless its view is marked ``@login_not_required``.

    Django admin is left to its own check (staff only, its own login page), which every admin
    view runs.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/" + settings.ADMIN_URL):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
