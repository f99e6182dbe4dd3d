from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import GatewayNotification, Order


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
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
    search_fields = ["out_trade_no", "gateway_trade_no", "member__name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(GatewayNotification)
class GatewayNotificationAdmin(admin.ModelAdmin):
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
    search_fields = ["out_trade_no", "gateway_trade_no"]
    date_hierarchy = "received_at"

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
