"""Staff screens: pending and cancelled account deletions (Support views them), and
the erasure ledger (no personal data; Privacy officers view it). Both read-only:
customers ask and cancel, workers erase."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.admin import RecordsStaffViewsMixin, UserAdmin
from cloudportal.core.admin import ReadOnlyAdminMixin
from cloudportal.core.pagination import CappedCountPaginator

from .models import ErasureLedgerEntry, ErasureRequest
from .services import account_delete_request


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


# --- The customers' list: delete an account as the customer asked ----------------
# The accounts app may not import erasure (it is below it), so the action is added to
# its User admin from here. It is what the customer's own Delete your account does:
# lock, sign out everywhere, email the confirmation with its cancel link, erase after
# the grace period.


def _has_erase_permission(self, request) -> bool:
    return request.user.has_perm("erasure.add_erasurerequest")


@admin.action(permissions=["erase"], description=_("Delete the account as the customer asked"))
def account_delete_as_asked(modeladmin, request, queryset) -> None:
    done = 0
    for user in queryset.exclude(pk=request.user.pk).filter(is_staff=False):
        try:
            account_delete_request(user=user, staff=request.user)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{user.email}: {' '.join(exc.messages)}", messages.WARNING)
        else:
            done += 1
    modeladmin.message_user(request, _("Deletions started: %(n)s.") % {"n": done}, messages.SUCCESS)


UserAdmin.has_erase_permission = _has_erase_permission
UserAdmin.actions = [*UserAdmin.actions, account_delete_as_asked]
