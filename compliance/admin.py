"""Staff screens for legal holds, disclosures and the sweep's record (Privacy officers).

No staff group but Privacy officer has these models' permissions, so Support sees
none of them. Every write goes through compliance/services.py: a hold's placing,
changes and lifting land in its audit trail (shown on the hold) and in the
customer's history, hidden from them while a hold that forbids notice lasts.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudportal.core.admin import ReadOnlyAdminMixin

from .models import Disclosure, LegalHold, LegalHoldEvent, SweepRun
from .services import (
    HOLD_FIELDS,
    disclosure_change,
    disclosure_record,
    legal_hold_change,
    legal_hold_check,
    legal_hold_lift,
    legal_hold_place,
)


class ActiveFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("In force")), ("review", _("In force, review due")), ("ended", _("Lifted or expired"))]

    def queryset(self, request, queryset):
        active = LegalHold.objects.active().values("pk")
        if self.value() == "active":
            return queryset.filter(pk__in=active)
        if self.value() == "review":
            return queryset.filter(pk__in=active, review_on__lte=timezone.localdate())
        if self.value() == "ended":
            return queryset.exclude(pk__in=active)
        return queryset


class LegalHoldForm(forms.ModelForm):
    lift = forms.BooleanField(
        label=_("lift this hold now"),
        required=False,
        help_text=_("Sessions it held that are past their retention are erased by the next sweep."),
    )

    class Meta:
        model = LegalHold
        fields = [*HOLD_FIELDS, "release_reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("lift") and not (cleaned.get("release_reason") or "").strip():
            self.add_error("release_reason", _("Say why the hold is lifted."))
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        try:
            legal_hold_check(self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


class LegalHoldEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LegalHoldEvent
    fields = ["created_at", "action", "staff", "fields", "note"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("audit trail")


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    form = LegalHoldForm
    list_display = ["reference", "authority", "scope", "scope_value", "starts_at", "ends_at", "review_on", "expires_at"]
    list_filter = [ActiveFilter, "scope", "customer_may_be_told", "review_on"]
    search_fields = ["reference", "authority", "mac", "account__email"]
    raw_id_fields = ["account"]
    list_select_related = ["account"]
    inlines = [LegalHoldEventInline]
    fieldsets = [
        (_("Scope"), {"fields": ["scope", "account", "mac", "ip", "starts_at", "ends_at"]}),
        (_("Order"), {"fields": ["authority", "reference", "customer_may_be_told", "review_on", "expires_at"]}),
        (_("Lift"), {"fields": ["lift", "release_reason"]}),
    ]

    @admin.display(description=_("held"))
    def scope_value(self, obj: LegalHold) -> str:
        return obj.scope_value

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets[:2]
        return self.fieldsets

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.released_at is not None:
            return False  # a lifted hold stays as it was, for the record
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # holds are lifted, never deleted: the audit trail stays

    def save_model(self, request, obj: LegalHold, form, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in HOLD_FIELDS if name in form.cleaned_data}
        if change:
            hold = legal_hold_change(hold=obj, staff=request.user, values=values)
        else:
            hold = legal_hold_place(staff=request.user, **values)
        if form.cleaned_data.get("lift"):
            hold = legal_hold_lift(hold=hold, staff=request.user, reason=form.cleaned_data["release_reason"])
        obj.pk = hold.pk


class DisclosureForm(forms.ModelForm):
    class Meta:
        model = Disclosure
        fields = [
            "customer",
            "data_disclosed",
            "recipient",
            "authority_kind",
            "legal_basis",
            "reference",
            "disclosed_on",
            "visible_from",
            "hold",
        ]
        widgets = {
            "disclosed_on": forms.DateInput(attrs={"type": "date"}),
            "visible_from": forms.DateInput(attrs={"type": "date"}),
        }


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    """Opening a disclosure is not recorded in the customer's history: the entry
    would tell them of the disclosure before the day they may know of it."""

    form = DisclosureForm
    list_display = ["disclosed_on", "recipient", "authority_kind", "customer", "visible_from", "reference"]
    list_filter = ["authority_kind", "disclosed_on", "visible_from"]
    search_fields = ["reference", "recipient", "customer__email"]
    raw_id_fields = ["customer", "hold"]
    list_select_related = ["customer"]
    date_hierarchy = "disclosed_on"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A disclosure happened: only when the customer may see it can change.
        return [name for name in DisclosureForm.Meta.fields if name != "visible_from"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Disclosure, form, change: bool) -> None:
        if change:
            disclosure = disclosure_change(
                disclosure=obj, staff=request.user, visible_from=form.cleaned_data.get("visible_from")
            )
        else:
            values = {name: form.cleaned_data.get(name) for name in DisclosureForm.Meta.fields}
            disclosure = disclosure_record(staff=request.user, **values)
        obj.pk = disclosure.pk


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "cutoff", "notices"]
    fields = ["started_at", "finished_at", "cutoff", "counts", "notices"]
    readonly_fields = fields
