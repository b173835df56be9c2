"""Staff screens: pending and cancelled account deletions (Support views them), and
the erasure ledger (no personal data; Privacy officers view it). Both read-only:
customers ask and cancel, workers erase."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import RecordsStaffViewsMixin
from cloudportal.core.admin import ReadOnlyAdminMixin
from cloudportal.core.pagination import CappedCountPaginator

from .models import ErasureLedgerEntry, ErasureRequest


@admin.register(ErasureRequest)
class ErasureRequestAdmin(RecordsStaffViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    viewed_category = "account_deletion"
    list_display = ["id", "customer_email", "status", "requested_at", "erase_after", "cancelled_at"]
    list_filter = ["status", "erase_after"]
    search_fields = ["user__email"]
    search_help_text = _("The customer's email address.")
    list_select_related = ["user"]
    fields = ["user", "status", "requested_at", "erase_after", "cancelled_at"]
    readonly_fields = fields

    @admin.display(description=_("customer"), ordering="user__email")
    def customer_email(self, obj: ErasureRequest) -> str:
        return obj.user.email


@admin.register(ErasureLedgerEntry)
class ErasureLedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["account_id", "erased_at", "email_hash"]
    list_filter = ["erased_at"]
    search_fields = ["=account_id"]
    search_help_text = _("An account id.")
    paginator = CappedCountPaginator
    show_full_result_count = False
    fields = ["account_id", "email_hash", "erased_at", "counts"]
    readonly_fields = fields
