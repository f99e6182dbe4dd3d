"""The error pages: 400, 403, 404, 405, 500 and a refused form (CSRF), styled like the rest of
the site, in the visitor's language, each with a way back — to the console for its pages.

A request id ties a 500 to its log line: ``RequestIdMiddleware`` gives every request one (sent
back as ``X-Request-ID``), the log lines written while it runs carry it, and the 500 page shows
it so that a patient or a clerk can quote it to the clinic.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """A short random id for each request, in its log lines and its ``X-Request-ID`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_id.set(uuid.uuid4().hex[:12])
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = _request_id.get()
            return response
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the running request's id on every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class MembersOnly(PermissionDenied):
    """A member's page opened by a login that is not a member's (staff): the 403 page says so
    and links to the console."""


def in_console(request: HttpRequest) -> bool:
    """A page of the staff console: its error page keeps the console's frame and links."""
    return request.path.startswith("/staff/")


def _api_error(status: int, code: str, message: str) -> HttpResponse:
    """What the API (/api/) answers instead of a page: its one error body (medbook.api.errors)."""
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


_API_ERRORS = {400: "invalid", 403: "permission_denied", 404: "not_found"}


def _page(
    request: HttpRequest, status: int, title: str, message: str, *, to_console: bool = False
) -> HttpResponse:
    if request.path_info.startswith("/api/") and status in _API_ERRORS:
        return _api_error(status, _API_ERRORS[status], _api_message(status))
    context = {
        "status": status,
        "title": title,
        "message": message,
        "console": in_console(request),
        "to_console": to_console,
    }
    return render(request, "errors/page.html", context, status=status)


def _api_message(status: int) -> str:
    if status == 404:
        return _("Not found.")
    if status == 403:
        return _("You may not do this.")
    return _("The request is not valid.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a suspicious request, a bad header …); pages refusing their own bad input
    render 400.html with their message."""
    return _page(
        request,
        400,
        _("Bad request"),
        _("The request could not be understood. Please go back and try again."),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, MembersOnly):  # a staff login on a member page
        return _page(request, 403, _("You can't open this page"), str(exception), to_console=True)
    if in_console(request):
        message = _(
            "Your login may not do this. If your work needs it, ask the clinic's administrator."
        )
    else:
        message = _("Your account may not open this page. If you need help, contact the clinic.")
    return _page(request, 403, _("You can't open this page"), message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        404,
        _("Page not found"),
        _(
            "The page you are looking for does not exist or has been removed. Check the "
            "address, or start again from the home page."
        ),
    )


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        405,
        _("This page can't be opened this way"),
        _("Please go back to the previous page and use its buttons."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent without its page's token (an old tab, cookies off)."""
    return _page(
        request,
        403,
        _("This form has expired"),
        _(
            "To keep your account safe, a form must be sent from a page opened recently. Go "
            "back, reload the page and send it again. If this keeps happening, allow this "
            "site's cookies in your browser."
        ),
    )


def server_error_page() -> HttpResponse:
    """The 500 page, rendered without the request (it needs nothing that could fail again)."""
    return HttpResponse(
        render_to_string("500.html", {"request_id": current_request_id()}), status=500
    )


class MethodNotAllowedPageMiddleware:
    """A view refusing the method answers 405 with an empty body (``require_GET`` …): give it
    the page, keeping its ``Allow`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.streaming or response.content:
            return response
        page = method_not_allowed(request)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page
