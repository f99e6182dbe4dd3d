"""The OpenAPI description of the API's errors: every operation lists the error statuses it can
answer, each with the one error body (:mod:`medbook.api.errors`), so a client generated from the
schema knows them without reading the code."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

__all__ = ["AutoSchema", "ErrorResponseSerializer"]


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable: what a client branches on (e.g. invalid, not_authenticated, "
        "token_expired, token_reused, second_factor_required, wrong_code, sold_out, throttled)."
    )
    message = serializers.CharField(help_text="For people, in the language of Accept-Language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field; empty when the error is about the whole request.",
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_MEANINGS = {
    400: "The input is not valid (see error.fields), or the request carries a control "
    "character (such as a NUL byte) in its path or query, which no input accepts.",
    401: "No access token, or it is invalid, expired or revoked.",
    403: "This login may not do this (e.g. staff without two-factor authentication).",
    404: "No such thing for this login.",
    409: "The state of things does not allow it now (the service's refusal, error.code).",
    415: "The request body is not JSON (send Content-Type: application/json).",
    422: "The request contradicts an earlier one (e.g. an Idempotency-Key reused).",
    429: "Too many requests (Retry-After says when to try again).",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the error responses each operation can give.

    A view may name more with ``error_statuses`` (e.g. 409 for a service that can refuse)."""

    def _error_statuses(self) -> set[int]:
        # 400 everywhere: the input policy (medbook.middleware) refuses a control character in
        # any path or query before a view runs, so even an operation without input can say 400.
        statuses = {400, 429}
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            statuses.add(415)
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if "{" in self.path:
            statuses.add(404)
        statuses |= set(getattr(self.view, "error_statuses", ()))
        return statuses

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in sorted(self._error_statuses()):
            body = self._get_response_for_code(ErrorResponseSerializer, str(status))
            body["description"] = ERROR_MEANINGS[status]
            responses.setdefault(str(status), body)
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "medbook.api.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token from POST /api/v1/auth/token/ (10 minutes).",
        }
