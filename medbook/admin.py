"""The operation log in Django admin: readable, searchable and filterable, never editable (its
rows are hash-chained evidence; manage.py verify_audit_log checks the chain)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import CrontabScheduleAdmin, PeriodicTaskAdmin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .jobs import crontab_expression, crontab_in_words
from .models import OperationLog
from .operations import ACTIONS, AREAS
from .paginator import LargeTableAdmin
from .selectors import job_title, runs_in_words


class AreaFilter(admin.SimpleListFilter):
    """The kind of operation, by the action's prefix: a fixed list, so the filter never scans
    the log for its distinct actions."""

    title = _("area")
    parameter_name = "area"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return AREAS

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in dict(AREAS):
            return queryset.filter(action__startswith=value)
        return queryset


@admin.register(OperationLog)
class OperationLogAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Who did what, when and from where: read-only for everyone, superusers included."""

    list_display = ["created_at", "actor", "operation", "target", "outcome", "reason", "ip"]
    list_filter = [AreaFilter, "outcome", "created_at"]
    list_select_related = ["actor"]
    search_fields = ["action"]
    search_help_text = _("Search by operation, login, object or reason.")
    readonly_fields = [
        "created_at",
        "actor",
        "operation",
        "target",
        "target_id",
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
        """Operations whose name (in the reader's language) holds the term or whose code starts
        with it, a login's exact name, an object's id (these
        through the log's indexes) or words of the reason (a scan of the newest rows until a
        page is found: a rare word reads far back, the one search here that can be slow)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        words = term.casefold()
        named = [code for code, label in ACTIONS.items() if words in str(label).casefold()]
        return queryset.filter(
            Q(action__in=named)
            | Q(action__startswith=term)
            | Q(actor__username=term)
            | Q(target_id=term)
            | Q(reason__icontains=term)
        ), False

    @admin.display(description=_("operation"), ordering="action")
    def operation(self, row: OperationLog) -> str:
        return row.action_label

    @admin.display(description=_("object"))
    def target(self, row: OperationLog) -> str:
        return row.object_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OperationLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OperationLog | None = None) -> bool:
        return False


# django-celery-beat's pages, worded in the reader's language: its crontab "human readable"
# text is English only, and the task list's "scheduler" column has no translatable name.
admin.site.unregister(CrontabSchedule)
admin.site.unregister(PeriodicTask)


@admin.register(CrontabSchedule)
class CrontabAdmin(CrontabScheduleAdmin):
    list_display = ["expression", "in_words"]
    fields = ["in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week"]
    fields += ["timezone"]
    readonly_fields = ["in_words"]

    @admin.display(description=_("cron expression"))
    def expression(self, cron: CrontabSchedule) -> str:
        return crontab_expression(cron)

    @admin.display(description=_("when it runs"))
    def in_words(self, cron: CrontabSchedule) -> str:
        return crontab_in_words(cron) if cron.pk else ""


@admin.register(PeriodicTask)
class JobAdmin(PeriodicTaskAdmin):
    # The job's name in the reader's language (its key, e.g. "relay-outbox", is on its page).
    list_display = ["job", "enabled", "runs", "last_run_at", "one_off"]
    list_filter = ["enabled", "one_off", "last_run_at"]
    list_select_related = ["interval", "crontab"]

    @admin.display(description=_("job"))
    def job(self, task: PeriodicTask) -> str:
        """What the console calls the job (a job added here: its name)."""
        return job_title(task)

    @admin.display(description=_("when it runs"))
    def runs(self, task: PeriodicTask) -> str:
        return runs_in_words(task)

    @admin.display(description=_("crontab in words"))
    def crontab_translation(self, task: PeriodicTask) -> str:
        return crontab_in_words(task.crontab) if task.crontab_id else ""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # The crontab sentences the page's script shows when another schedule is picked.
        words = {cron.pk: crontab_in_words(cron) for cron in CrontabSchedule.objects.all()}
        extra_context = {**(extra_context or {}), "readable_crontabs": words}
        return admin.ModelAdmin.changeform_view(self, request, object_id, form_url, extra_context)
