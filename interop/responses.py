"""What the FHIR endpoints answer: ``application/fhir+json`` always, searchset Bundles with
paging links, the CapabilityStatement, and every error as an OperationOutcome with its 4xx."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from .search import FhirError, Query

__all__ = [
    "FhirJsonRenderer",
    "FhirNegotiation",
    "exception_handler",
    "outcome",
    "searchset",
]

FHIR_VERSION = "4.0.1"


class FhirJsonRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "json"


class FhirNegotiation(BaseContentNegotiation):
    """FHIR JSON whatever the Accept header says (``_format`` is checked with the search)."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: Any = None):
        return renderers[0], renderers[0].media_type


def outcome(status: int, code: str, message: str, **headers: str) -> Response:
    """An OperationOutcome: one issue, ``code`` from FHIR's issue types, the message for
    people (in the language of Accept-Language)."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": str(message)}],
    }
    return Response(body, status=status, headers=headers)


# REST framework's refusals (the bearer token's, the throttles') as FHIR issue types.
_ISSUE = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 429: "throttled"}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, FhirError):
        return outcome(exc.status, exc.code, exc.message)
    if isinstance(exc, Http404):
        return outcome(404, "not-found", _("Not found."))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fhir"'
    if isinstance(exc, exceptions.Throttled):
        message = _("Too many requests. Please wait a moment and try again.")
        if exc.wait is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))
    elif isinstance(exc, exceptions.NotAuthenticated):
        message = _("Log in first: send the access token as 'Authorization: Bearer <token>'.")
    else:  # the token's own refusals (medbook.api.errors) say what to do in their detail
        message = str(exc.detail)
    code = _ISSUE.get(exc.status_code, "invalid")
    return outcome(exc.status_code, code, message, **headers)


def _link(request: Request, relation: str, query: Query, offset: int) -> dict[str, str]:
    params = [(k, v) for k, values in query.params.items() for v in values]
    params += [("_count", str(query.count)), ("_offset", str(offset))]
    base = request.build_absolute_uri(request.path)
    return {"relation": relation, "url": f"{base}?{urlencode(params)}"}


def searchset(
    request: Request,
    query: Query,
    found: Sequence[Any],
    render: Any,
) -> dict[str, Any]:
    """A page of ``found`` as a searchset Bundle: the total, links (self, first, previous,
    next) and each resource (``render(obj)``) with its full URL."""
    total = len(found) if isinstance(found, list) else found.count()
    page = list(found[query.offset : query.offset + query.count])
    links = [_link(request, "self", query, query.offset), _link(request, "first", query, 0)]
    if query.offset > 0:
        links.append(_link(request, "previous", query, max(0, query.offset - query.count)))
    if query.offset + query.count < total:
        links.append(_link(request, "next", query, query.offset + query.count))
    base = request.build_absolute_uri("/fhir/")
    entries = []
    for obj in page:
        resource = render(obj)
        entries.append(
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.localtime().isoformat(),
        "total": total,
        "link": links,
        "entry": entries,
    }
