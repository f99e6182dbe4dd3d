"""The FHIR R4 read API (/fhir/): the CapabilityStatement (public), read and search of each
resource type (interop.resources), with the API's bearer tokens (staff past their second
factor), its throttles, and the selectors' scoping: another member's patient is a 404."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appointments.selectors.readable import Reader, reader_for
from medbook import audit
from records import services as record_services

from .resources import TYPES, Context, ResourceType
from .responses import (
    FHIR_VERSION,
    FhirJsonRenderer,
    FhirNegotiation,
    exception_handler,
    outcome,
    searchset,
)
from .search import ID_PATTERN, FhirError, check_format, parse_query

CAPABILITIES_DATE = "2026-12-01"  # when what this server does last changed


class FhirView(APIView):
    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = FhirNegotiation
    permission_classes = [IsAuthenticated]
    schema = None  # not part of the OpenAPI document of /api/

    def get_exception_handler(self) -> Any:
        return exception_handler

    def kind(self, name: str) -> ResourceType:
        kind = TYPES.get(name)
        if kind is None:
            raise FhirError(
                _("This server has no resource type %(type)s.") % {"type": name[:64]},
                code="not-supported",
                status=404,
            )
        return kind

    def reader(self, request: Request, kind: ResourceType) -> Reader:
        reader = reader_for(user=request.user)
        if kind.patient_data and not reader.reads_patients:
            raise FhirError(
                _("Your role does not include patient records."), code="forbidden", status=403
            )
        return reader

    def answer(self, request: Request, body: dict, context: Context) -> Response:
        if context.unmasked:  # personal data shown in full: logged, one row per request
            audit.record(
                actor=request.user,
                action="fhir.unmask",
                target_type="members.patient",
                target_label=" ".join(f"#{pk}" for pk in context.unmasked),
                detail={"patients": context.unmasked},
                request=request._request,
            )
        if context.records:  # visit records read by staff, as the record pages log them
            record_services.log_staff_reads(
                record_ids=context.records,
                by=request.user,
                through="fhir",
                request=request._request,
            )
        return Response(body, headers={"Cache-Control": "no-store"})


class ReadView(FhirView):
    """GET /fhir/<type>/<id>"""

    def get(self, request: Request, resource_type: str, id: str) -> Response:
        kind = self.kind(resource_type)
        check_format(dict(request.query_params.lists()))
        reader = self.reader(request, kind)
        found = kind.read(reader, id) if ID_PATTERN.match(id) else None
        if found is None:
            return outcome(
                404,
                "not-found",
                _("%(type)s/%(id)s is not known here.") % {"type": kind.name, "id": id[:64]},
            )
        context = Context(reader=reader)
        return self.answer(request, kind.render(found, context), context)


class SearchView(FhirView):
    """GET /fhir/<type>?<search parameters>: a searchset Bundle."""

    def get(self, request: Request, resource_type: str) -> Response:
        kind = self.kind(resource_type)
        query = parse_query(dict(request.query_params.lists()), set(kind.params))
        reader = self.reader(request, kind)
        context = Context(reader=reader)
        found = kind.search(reader, query)
        body = searchset(request, query, found, lambda obj: kind.render(obj, context))
        return self.answer(request, body, context)


class MetadataView(FhirView):
    """GET /fhir/metadata: what this server does (public)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request: Request) -> Response:
        check_format(dict(request.query_params.lists()))
        return Response(capability_statement(request))


def capability_statement(request: Request) -> dict[str, Any]:
    resources = [
        {
            "type": kind.name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": name, "type": param.type, "documentation": param.doc}
                for name, param in kind.params.items()
            ],
        }
        for kind in TYPES.values()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITIES_DATE,
        "publisher": "MedBook",
        "kind": "instance",
        "software": {"name": "MedBook"},
        "implementation": {
            "description": "MedBook FHIR R4 read API",
            "url": request.build_absolute_uri("/fhir/"),
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "description": (
                        "The bearer access tokens of /api/v1/auth/token/ (staff logins with "
                        "their second factor): members read their own account's records."
                    ),
                },
                "resource": resources,
            }
        ],
    }
