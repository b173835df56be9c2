"""Staff screens for authority requests (Privacy officers only: no other group has
these models' permissions, so Support gets 403 on every one of their URLs).

The request's own screen holds what staff set and shows its lookups and its audit
trail; each step of the workflow is a page of its own (authorities/admin_views.py)
reached from the links at the top of that screen. Every write goes through
authorities/services.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cloudportal.core.admin import ReadOnlyAdminMixin

from . import admin_views
from .forms import AuthorityRequestForm
from .models import AuthorityRequest, DisclosurePackage, Lookup, RequestEvent
from .selectors import request_preparers
from .services import AFTER_DECISION_FIELDS, REQUEST_FIELDS, authority_request_change, authority_request_open


class DueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within 7 days")), ("open", _("Open"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_requests = queryset.filter(closed_at__isnull=True).exclude(
            status__in=[AuthorityRequest.Status.DISCLOSED, AuthorityRequest.Status.REFUSED]
        )
        if self.value() == "overdue":
            return open_requests.filter(due_on__lt=today)
        if self.value() == "week":
            return open_requests.filter(due_on__gte=today, due_on__lte=today + timezone.timedelta(days=7))
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        return queryset


class LookupInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Lookup
    fields = ["kind", "value_display", "starts_at", "ends_at", "sessions", "accounts", "created_by", "results_link"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("lookups")

    @admin.display(description=_("looked up"))
    def value_display(self, obj: Lookup) -> str:
        return obj.value

    @admin.display(description=_("results"))
    def results_link(self, obj: Lookup) -> str:
        url = reverse("admin:authorities_authorityrequest_results", args=[obj.request_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("See the results"))


class RequestEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RequestEvent
    fields = ["created_at", "action", "staff", "note"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("audit trail")


@admin.register(AuthorityRequest)
class AuthorityRequestAdmin(admin.ModelAdmin):
    form = AuthorityRequestForm
    list_display = ["reference", "authority", "authority_kind", "status", "received_on", "due_on", "officer"]
    list_filter = [DueFilter, "status", "authority_kind", "decision", "officer", "received_on"]
    search_fields = ["reference", "authority", "legal_basis", "lookups__mac", "lookups__email"]
    search_help_text = _("A reference, an authority, or a MAC address or email that was looked up.")
    list_select_related = ["officer"]
    date_hierarchy = "received_on"
    show_full_result_count = False
    inlines = [LookupInline, RequestEventInline]
    readonly_fields = ["status", "decision", "decided_by", "decided_at", "decision_reason", "created_by", "closed_at"]
    fieldsets = [
        (_("The request"), {"fields": ["authority", "authority_kind", "reference", "legal_basis", "notes"]}),
        (_("Handling"), {"fields": ["received_on", "due_on", "officer", "notice_from", "status", "created_by"]}),
        (_("Decision"), {"fields": ["decision", "decided_by", "decided_at", "decision_reason", "closed_at"]}),
    ]

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(lambda request, *args, **kwargs: function(self, request, *args, **kwargs))

        name = "authorities_authorityrequest"
        return [
            path("<int:pk>/lookup/<str:kind>/", view(admin_views.lookup_add), name=f"{name}_lookup"),
            path("<int:pk>/results/<int:lookup_pk>/", view(admin_views.results), name=f"{name}_results"),
            path("<int:pk>/submit/", view(admin_views.submit), name=f"{name}_submit"),
            path("<int:pk>/decide/", view(admin_views.decide), name=f"{name}_decide"),
            path("<int:pk>/package/", view(admin_views.package), name=f"{name}_package"),
            path(
                "<int:pk>/package/<int:package_pk>/download/",
                view(admin_views.package_download),
                name=f"{name}_download",
            ),
            path("<int:pk>/close/", view(admin_views.close), name=f"{name}_close"),
            *super().get_urls(),
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": list(REQUEST_FIELDS)})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.closed_at is not None:
            return [*REQUEST_FIELDS, *self.readonly_fields]
        if obj.is_decided:
            return [*(f for f in REQUEST_FIELDS if f not in AFTER_DECISION_FIELDS), *self.readonly_fields]
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"officer": request.user.pk, "received_on": timezone.localdate()}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # requests are closed, never deleted: the audit trail stays

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            extra_context = {**(extra_context or {}), **admin_views.workflow_context(self, request, obj)}
            extra_context["prepared_by_you"] = request.user.pk in request_preparers(request=obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj: AuthorityRequest, form, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in REQUEST_FIELDS if name in form.cleaned_data}
        if change:
            saved = authority_request_change(request=obj, staff=request.user, values=values)
        else:
            saved = authority_request_open(staff=request.user, **values)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change) -> None:
        pass  # nothing related is edited here: lookups and the trail are written by the services

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:  # a rule of the service, e.g. a closed request
            self.message_user(request, " ".join(exc.messages), level="error")
            return redirect(request.path)


@admin.register(DisclosurePackage)
class DisclosurePackageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["request", "status", "created_at", "finished_at", "expires_at", "downloads"]
    list_filter = ["status"]
    search_fields = ["request__reference"]
    readonly_fields = ["request", "status", "created_at", "finished_at", "expires_at", "size", "sha256", "signature"]
    fields = readonly_fields + ["downloads"]
