from django.contrib import admin

from .models import OutboundEmail


class ReadOnlyAdminMixin:
    """A record staff may look at and never add, change or delete (histories, logs);
    for model admins and inlines alike (an inline is asked with the parent object)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox, for operators: what is pending, sent or failed. Read-only."""

    list_display = ["id", "template", "priority", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status", "priority", "template"]
    search_fields = ["to"]
    show_full_result_count = False
    exclude = ["body_text", "body_html", "headers"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
