from decimal import Decimal

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from medbook.paginator import ExactSearch, LargeTableAdmin
from members.admin import MemberNumberSearch

from .models import (
    GatewayNotification,
    InsuranceClaim,
    InsurancePlan,
    InsuranceRatio,
    InsuranceSettlement,
    InsuranceUsage,
    Order,
    Refund,
    SandboxRefund,
    SandboxTrade,
    Settlement,
    SettlementLine,
    SettlementMismatch,
)


@admin.register(Order)
class OrderAdmin(LargeTableAdmin, MemberNumberSearch, SimpleHistoryAdmin):
    """Read-only: amounts and statuses change only through the billing services."""

    list_display = [
        "out_trade_no",
        "member",
        "amount",
        "original_amount",
        "status",
        "gateway",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "gateway", "created_at"]
    list_select_related = ["member"]
    exact_search_fields = ("out_trade_no", "gateway_trade_no")
    search_help_text = _(
        "Search by order number, name, or a member's full mobile number or ID number."
    )
    raw_id_fields = ["member", "appointment"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(GatewayNotification)
class GatewayNotificationAdmin(LargeTableAdmin, ExactSearch, admin.ModelAdmin):
    """Raw notifications as received: evidence, never edited."""

    list_display = [
        "received_at",
        "gateway",
        "out_trade_no",
        "gateway_trade_no",
        "signature_valid",
        "outcome",
        "remote_addr",
    ]
    list_filter = ["gateway", "outcome", "signature_valid", "received_at"]
    search_fields = ["out_trade_no"]
    exact_search_fields = ("out_trade_no",)
    search_help_text = _("Search by order number.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: GatewayNotification | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: GatewayNotification | None = None
    ) -> bool:
        return False


class ReadOnlyAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Money records change only through the billing services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Refund)
class RefundAdmin(MemberNumberSearch, ReadOnlyAdmin):
    member_lookup = "order__member"
    search_help_text = _(
        "Search by refund or order number, name, or a member's full mobile number or ID number."
    )
    list_display = [
        "out_refund_no",
        "order",
        "amount",
        "status",
        "reason",
        "created_at",
        "completed_at",
        "attempts",
    ]
    list_filter = ["status", "created_at"]
    list_select_related = ["order"]
    exact_search_fields = ("out_refund_no", "order__out_trade_no")
    raw_id_fields = ["order"]


@admin.register(SandboxTrade)
class SandboxTradeAdmin(ExactSearch, ReadOnlyAdmin):
    list_display = [
        "trade_no",
        "out_trade_no",
        "amount",
        "paid_at",
        "notify_attempts",
        "notified_at",
    ]
    search_fields = ["trade_no"]
    exact_search_fields = ("trade_no", "out_trade_no")
    search_help_text = _("Search by trade or order number.")


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ExactSearch, ReadOnlyAdmin):
    list_display = ["refund_no", "out_refund_no", "trade", "amount", "refunded_at"]
    search_fields = ["refund_no"]
    exact_search_fields = ("refund_no", "out_refund_no")
    search_help_text = _("Search by refund number.")


class SettlementLineInline(admin.TabularInline):
    model = SettlementLine
    fields = [
        "department",
        "doctor",
        "payments_count",
        "payments_total",
        "refunds_count",
        "refunds_total",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


class SettlementMismatchInline(admin.TabularInline):
    model = SettlementMismatch
    fields = [
        "kind",
        "transaction_type",
        "reference",
        "out_trade_no",
        "medbook_amount",
        "gateway_amount",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    """Daily takings and what the gateway disagrees on; recomputed by the settlement job."""

    list_display = [
        "day",
        "gateway",
        "payments_count",
        "payments_total",
        "refunds_count",
        "refunds_total",
        "net_total",
        "mismatch_count",
    ]
    list_filter = ["gateway", "day"]
    inlines = [SettlementMismatchInline, SettlementLineInline]

    @admin.display(description=_("net"))
    def net_total(self, obj: Settlement) -> Decimal:
        return obj.net_total


class InsuranceRatioInline(admin.TabularInline):
    model = InsuranceRatio
    extra = 0


@admin.register(InsurancePlan)
class InsurancePlanAdmin(SimpleHistoryAdmin):
    """The sandbox insurer's rules: editable here; a visit is split by the rules in force when
    it is booked."""

    list_display = [
        "insurance_type",
        "ratio",
        "deductible",
        "annual_cap",
        "personal_account_ratio",
        "active",
    ]
    inlines = [InsuranceRatioInline]


@admin.register(InsuranceClaim)
class InsuranceClaimAdmin(SimpleHistoryAdmin):
    """Read-only: settled and reversed only through the billing services."""

    list_display = [
        "reference",
        "order",
        "insurer",
        "total",
        "fund",
        "personal",
        "self_pay",
        "settled_at",
    ]
    list_filter = ["insurer", "settled_at"]
    list_select_related = ["order"]
    search_fields = ["reference", "order__out_trade_no"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InsuranceUsage)
class InsuranceUsageAdmin(admin.ModelAdmin):
    """Read-only: each patient's use of the sandbox insurer's yearly deductible and cap."""

    list_display = ["patient", "year", "deductible_used", "fund_used"]
    list_filter = ["year"]
    list_select_related = ["patient"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InsuranceSettlement)
class InsuranceSettlementAdmin(admin.ModelAdmin):
    """Read-only: each insurer's day, recomputed by the daily settlement job."""

    list_display = [
        "day",
        "insurer",
        "claims_count",
        "total",
        "fund",
        "personal",
        "self_pay",
        "reversed_fund",
        "reversed_personal",
    ]
    list_filter = ["insurer", "day"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
