from django.contrib import admin

from .models import VerificationAttempt


@admin.register(VerificationAttempt)
class VerificationAttemptAdmin(admin.ModelAdmin):
    """Attempts are a log: looked at, never written or changed here."""

    list_display = ["created_at", "provider", "outcome", "channel", "user", "patient", "reference"]
    list_filter = ["outcome", "provider", "channel"]
    list_select_related = ["user", "patient"]
    search_fields = ["reference"]
    show_full_result_count = False
    readonly_fields = [f.name for f in VerificationAttempt._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
