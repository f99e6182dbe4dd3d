"""Pagination of lists over big tables (appointments, orders, the ledger, messages, the
operation log) that costs the same at a thousand rows and at a million.

Django's ``Paginator`` counts the whole list (``SELECT COUNT(*)``) to number the pages, and the
admin counts it twice; at a million appointments that is most of a changelist's time. Here:

- an unfiltered list on PostgreSQL takes the table's size from the planner's statistics
  (``pg_class.reltuples``, kept by ANALYZE/autovacuum) — an estimate, shown as one;
- any other list is counted only up to ``cap`` rows (``COUNT(*)`` over a ``LIMIT``): past that,
  the page says "more than …", and the user narrows the list with a filter or the search;
- whatever the count, only the first ``cap`` rows are paged (an ``OFFSET`` deeper than that
  would read the table up to it): page numbers stop there.

Both counts are one query at any size, so a list's query count does not grow with the clinic.
:class:`LargeTableAdmin` puts it into a ModelAdmin with the admin's full count turned off.
"""

from __future__ import annotations

from functools import cached_property
from math import ceil
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext

__all__ = ["COUNT_CAP", "CappedPaginator", "ExactSearch", "LargeTableAdmin"]

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """A ``Paginator`` whose count is estimated (unfiltered) or capped (filtered); see the
    module's docstring. ``total`` is what to show ("about N", "more than N", or exactly N)."""

    cap = COUNT_CAP

    def __init__(self, object_list: Any, per_page: int, *args: Any, **kwargs: Any) -> None:
        self.cap = kwargs.pop("cap", self.cap)
        super().__init__(object_list, per_page, *args, **kwargs)
        self.estimated = False  # total is the planner's estimate
        self.capped = False  # there are more than ``total`` rows

    @cached_property
    def total(self) -> int:
        """The list's size as well as it is known cheaply: exact up to ``cap`` rows; beyond
        that the planner's estimate for a whole table, or ``cap`` with ``capped`` set."""
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return super().count
        if _unfiltered(rows) and connections[rows.db].vendor == "postgresql":
            total, self.estimated = _estimated_count(rows, self.cap)
            if self.estimated:
                return total
        else:
            total = rows[: self.cap + 1].count()
        if total > self.cap:
            self.capped = True
            return self.cap
        return total

    @cached_property
    def count(self) -> int:
        """The rows that can be paged: the first ``cap``."""
        return min(self.total, self.cap)

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, self.count - self.orphans)
        return ceil(hits / self.per_page)

    @property
    def total_label(self) -> str:
        """ "about 1,000,000", "more than 1,000" or "42"."""
        shown = number_format(self.total, force_grouping=True)
        if self.estimated:
            return gettext("about %(n)s") % {"n": shown}
        if self.capped:
            return gettext("more than %(n)s") % {"n": shown}
        return shown


def _unfiltered(rows: QuerySet) -> bool:
    query = rows.query
    return (
        not query.where
        and not query.distinct
        and not query.combinator
        and query.low_mark == 0
        and query.high_mark is None
    )


def _estimated_count(rows: QuerySet, cap: int) -> tuple[int, bool]:
    """(rows, estimated): the planner's estimate of the table's rows when it holds at least
    ``cap``; else the rows counted up to ``cap + 1``. One statement either way: the count is a
    sub-select PostgreSQL runs only when the estimate is small (or unknown: -1 before the first
    ANALYZE)."""
    connection = connections[rows.db]
    table = connection.ops.quote_name(rows.model._meta.db_table)
    with connection.cursor() as cursor:
        # The table's name is the model's own, quoted: no outside input reaches the SQL.
        sql = (
            "SELECT CASE WHEN c.reltuples >= %s THEN c.reltuples::bigint "  # noqa: S608
            "ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " LIMIT %s) AS capped) END, "
            "c.reltuples >= %s FROM pg_class c WHERE c.oid = %s::regclass"
        )
        cursor.execute(sql, [cap, cap + 1, cap, rows.model._meta.db_table])
        total, estimated = cursor.fetchone()
    return int(total), bool(estimated)


class RowLinksChangeList(ChangeList):
    """A changelist whose rows link to their change pages with the list's filters already in
    the link (``?_changelist_filters=…``, what the admin adds to each row). The admin adds them
    per row through ``add_preserved_filters``, which resolves each row's URL against the whole
    URLconf (~2 ms a row here): a filtered or searched page of 100 rows spent 200 ms on it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    @cached_property
    def change_url(self) -> str:
        """The change page's address with ``{pk}`` for the row's key: reversed once, not per
        row (~0.1 ms each)."""
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=["0"],
            current_app=self.model_admin.admin_site.name,
        ).replace("/0/", "/{pk}/")

    def url_for_result(self, result) -> str:
        pk = getattr(result, self.pk_attname)
        if isinstance(pk, int):
            url = self.change_url.replace("{pk}", str(pk))
        else:  # keys that need the admin's quoting
            url = super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url


class LightRows:
    """A ModelAdmin mixin: each row's action checkbox written as the HTML the admin makes, where
    the admin renders a CheckboxInput widget through the form templates for every row (~0.5 ms
    a row: a third of a 100-row list of an editable model)."""

    def action_checkbox(self, obj: Any) -> str:
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )


class LargeTableAdmin(LightRows):
    """A ModelAdmin mixin for big tables: the capped paginator, no full count of the table
    (``show_full_result_count``), no ``date_hierarchy`` (it reads the dates of every row in
    the list on each view; the date filters do the same job from a fixed list), and row links
    made without a URL resolve per row (:class:`RowLinksChangeList`)."""

    paginator = CappedPaginator
    # 50 rows a page, not the admin's 100: rendering a row costs ~1 ms in the admin's templates,
    # most of such a page's time whatever the size of the table.
    list_per_page = 50
    show_full_result_count = False
    date_hierarchy = None

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return RowLinksChangeList


class ExactSearch:
    """A ModelAdmin mixin: the search box matches ``exact_search_fields`` exactly (order and
    trade numbers: unique, so indexed), where the admin's ``icontains`` — or ``=field``'s
    ``UPPER(…) =`` — reads the whole table. ``search_fields`` only shows the box."""

    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term or not self.exact_search_fields:
            return queryset, False
        found = Q()
        for field in self.exact_search_fields:
            found |= Q(**{field: term})
        return queryset.filter(found), False
