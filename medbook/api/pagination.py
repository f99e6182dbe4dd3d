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

    def decode_cursor(self, request: Any) -> Any:
        """A cursor that was altered is bad input (400 on the field), not a missing page."""
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [exc.detail]}) from exc

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """The page's shape in OpenAPI 3.1 terms (null as a type, not ``nullable``)."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }
