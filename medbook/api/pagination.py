"""Cursor pagination for lists that grow: a page stays right while rows are added, and a cursor
cannot be forged into an arbitrary offset (it is opaque)."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination as DrfCursorPagination

__all__ = ["CursorPagination"]


class CursorPagination(DrfCursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
