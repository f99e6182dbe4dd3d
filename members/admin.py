from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Member, MemberLevel, Message, PointsEntry, User
from .selectors import member_by_phone


@admin.register(User)
class MedBookUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]


@admin.register(MemberLevel)
class MemberLevelAdmin(SimpleHistoryAdmin):
    list_display = [
        "level",
        "name",
        "min_points",
        "booking_lead_hours",
        "can_cancel_late",
        "discount_rate",
        "max_active_appointments",
        "points_multiplier",
    ]
    ordering = ["level"]


class PointsEntryInline(admin.TabularInline):
    model = PointsEntry
    fields = ["created_at", "delta", "balance_after", "reason", "note", "reference", "created_by"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PointsEntry]:
        return super().get_queryset(request).select_related("created_by")


@admin.register(Member)
class MemberAdmin(SimpleHistoryAdmin):
    """Members register through the portal or the front desk; here personal data stays masked."""

    list_display = [
        "name",
        "masked_phone",
        "level",
        "points_balance",
        "registered_at",
        "banned_until",
    ]
    list_filter = ["level", "gender", "registered_at"]
    list_select_related = ["level"]
    search_fields = ["name"]
    search_help_text = _("Search by name, or by the full mobile number.")
    fields = [
        "name",
        "masked_phone",
        "masked_national_id",
        "gender",
        "birth_date",
        "level",
        "points_balance",
        "registered_at",
        "banned_until",
    ]
    readonly_fields = ["masked_phone", "masked_national_id", "points_balance", "registered_at"]
    inlines = [PointsEntryInline]

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: Member) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID number"))
    def masked_national_id(self, obj: Member) -> str:
        return obj.masked_national_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Member], search_term: str
    ) -> tuple[QuerySet[Member], bool]:
        found = member_by_phone(search_term) if search_term.strip() else None
        if found is not None:
            return queryset.filter(pk=found.pk), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: readable here, written only by the points services."""

    list_display = ["created_at", "member", "delta", "balance_after", "reason", "reference"]
    list_filter = ["reason", "created_at"]
    list_select_related = ["member"]
    search_fields = ["member__name", "reference"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PointsEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PointsEntry | None = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """In-app messages are written by the services; readable here for support."""

    list_display = ["created_at", "member", "kind", "title", "read_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["member"]
    search_fields = ["member__name", "title", "reference"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False
