"""Cursor pagination for lists that grow: a page stays right while rows are added, and a cursor
cannot be forged into an arbitrary offset (it is opaque)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination as DrfCursorPagination

__all__ = ["CursorPagination"]


class CursorPagination(DrfCursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
    invalid_cursor_message = _("This page cursor is not valid; start from the first page.")
    invalid_page_size_message = _("Enter a whole number from 1 to %(max)d.")

    def decode_cursor(self, request: Any) -> Any:
        """A cursor that was altered is bad input (400 on the field), not a missing page."""
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [exc.detail]}) from exc

    def get_page_size(self, request: Any) -> int:
        """The page size asked for, 1 to ``max_page_size``; anything else is bad input (400 on
        the field), not silently the default page."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = self.invalid_page_size_message % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """The page's shape in OpenAPI 3.1 terms (null as a type, not ``nullable``)."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }
