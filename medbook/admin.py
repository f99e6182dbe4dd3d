"""The operation log in Django admin: readable, searchable and filterable, never editable (its
rows are hash-chained evidence; manage.py verify_audit_log checks the chain)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import OperationLog
from .paginator import LargeTableAdmin


class AreaFilter(admin.SimpleListFilter):
    """The kind of operation, by the action's prefix: a fixed list, so the filter never scans
    the log for its distinct actions."""

    title = _("area")
    parameter_name = "area"
    AREAS = [
        ("appointment.", _("Appointments")),
        ("schedule", _("Sessions and templates")),
        ("billing.", _("Payments and refunds")),
        ("member.", _("Members")),
        ("auth.", _("Logins")),
        ("staff.", _("Staff logins")),
        ("reports.", _("Reports")),
        ("api.", _("API")),
    ]

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return self.AREAS

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in dict(self.AREAS):
            return queryset.filter(action__startswith=value)
        return queryset


@admin.register(OperationLog)
class OperationLogAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Who did what, when and from where: read-only for everyone, superusers included."""

    list_display = ["created_at", "actor", "action", "target_label", "outcome", "reason", "ip"]
    list_filter = [AreaFilter, "outcome", "created_at"]
    list_select_related = ["actor"]
    search_fields = ["action"]
    search_help_text = _("Search by operation, login, object or reason.")
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "reason",
        "detail",
        "outcome",
        "ip",
        "prev_hash",
        "hash",
    ]
    fields = readonly_fields
    ordering = ["-created_at", "-id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Operations starting with the term, a login's exact name, an object's id (these
        through the log's indexes) or words of the reason (a scan of the newest rows until a
        page is found: a rare word reads far back, the one search here that can be slow)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(
            Q(action__startswith=term)
            | Q(actor__username=term)
            | Q(target_id=term)
            | Q(reason__icontains=term)
        ), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OperationLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OperationLog | None = None) -> bool:
        return False
