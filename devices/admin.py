"""Staff screens for customers' devices.

Support views them; changes go through the services, so a label staff edit or a
device staff remove lands in the customer's history and the customer is told, as
when they do it themselves. Opening a device's screen is recorded as a staff view.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.admin import RecordsStaffViewsMixin

from .mac import mac_parse
from .models import Device
from .services import device_remove, device_rename

#: A locally administered address has bit 1 of its first octet set: the second hex
#: digit of the canonical form is one of these.
_RANDOMISED_SECOND_DIGIT = r"^.[2367ABEF]"


class RandomisedFilter(admin.SimpleListFilter):
    title = _("randomised address")
    parameter_name = "randomised"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(mac__regex=_RANDOMISED_SECOND_DIGIT)
        if self.value() == "no":
            return queryset.exclude(mac__regex=_RANDOMISED_SECOND_DIGIT)
        return queryset


@admin.register(Device)
class DeviceAdmin(RecordsStaffViewsMixin, admin.ModelAdmin):
    viewed_category = "devices"
    list_display = ["mac", "label", "customer_email", "created_at", "last_seen_at"]
    list_filter = [RandomisedFilter, "created_at"]
    search_fields = ["mac", "user__email"]
    search_help_text = _("A MAC address in any usual spelling, part of one, or the customer's email address.")
    list_select_related = ["user"]
    show_full_result_count = False
    fields = ["user", "mac", "label", "created_at", "last_seen_at"]
    readonly_fields = ["user", "mac", "created_at", "last_seen_at"]

    @admin.display(description=_("customer"), ordering="user__email")
    def customer_email(self, obj: Device) -> str:
        return obj.user.email

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        """A whole MAC address is found in whatever spelling it was typed."""
        try:
            mac = mac_parse(search_term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(mac=mac.canonical), False

    def has_add_permission(self, request) -> bool:
        return False  # customers add their devices in the portal

    def save_model(self, request, obj: Device, form, change: bool) -> None:
        try:
            device_rename(device=obj, label=form.cleaned_data["label"], actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    def delete_model(self, request, obj: Device) -> None:
        device_remove(device=obj, actor=request.user)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for device in queryset.select_related("user"):
            device_remove(device=device, actor=request.user)
