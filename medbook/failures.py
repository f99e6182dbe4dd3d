"""When a service MedBook depends on is down: a 503 with Retry-After, not a 500.

``server_error`` is the project's handler500: an exception that means the database could not
be reached (refused, cut, pool timeout) is answered 503 with ``Retry-After`` and a page that
says nothing was changed — rendered without the request, so it needs no database itself. Any
other error is the 500 page with the request's id (medbook.error_pages). ``OutagesInOneLine``
logs such a 503 as one line.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .error_pages import server_error_page

RETRY_AFTER_SECONDS = 5
OUTAGES = (OperationalError, InterfaceError)


def is_outage(exc: BaseException | None) -> bool:
    """True for the errors of an unreachable database (psycopg's and the pool's, wrapped)."""
    while exc is not None:
        if isinstance(exc, OUTAGES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return _api_error(outage=is_outage(sys.exc_info()[1]))
    if is_outage(sys.exc_info()[1]):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    return server_error_page()


def _api_error(*, outage: bool) -> HttpResponse:
    """The API's error body (medbook.api.errors) for what no handler caught."""
    if outage:
        code, status = "unavailable", 503
        message = _(
            "MedBook cannot reach its records for a moment, so nothing was changed. Please try "
            "again in a few seconds; bookings and payments already made are safe."
        )
    else:
        code, status = "server_error", 500
        message = _("Something went wrong on our side. Please try again later.")
    response = JsonResponse(
        {"error": {"code": code, "message": message, "fields": {}}}, status=status
    )
    response["Cache-Control"] = "no-store"
    if outage:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class OutagesInOneLine(logging.Filter):
    """A 503 while the database is down is logged as one line, without a traceback each."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 503:
            record.exc_info = None
            record.exc_text = None
        return True
