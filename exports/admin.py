"""Staff screens for data exports: who asked when, status, size and expiry.

Read-only for everyone: exports are made by customers and expired by the beat job.
Staff never download a customer's file from here. Opening one is a staff view in the
customer's history."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import RecordsStaffViewsMixin
from cloudportal.core.admin import ReadOnlyAdminMixin
from cloudportal.core.pagination import CappedCountPaginator

from .models import DataExport


@admin.register(DataExport)
class DataExportAdmin(RecordsStaffViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    viewed_category = "exports"
    list_display = ["id", "customer_email", "status", "created_at", "finished_at", "expires_at", "size"]
    list_filter = ["status", "created_at"]
    search_fields = ["user__email"]
    search_help_text = _("The customer's email address.")
    list_select_related = ["user"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    readonly_fields = [
        "user",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "categories_done",
        "categories_total",
        "records",
        "size",
        "sha256",
    ]
    fields = readonly_fields

    @admin.display(description=_("customer"), ordering="user__email")
    def customer_email(self, obj: DataExport) -> str:
        return obj.user.email
