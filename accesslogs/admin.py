"""Staff screens for sessions, sites and collectors.

Sessions are records of what happened: nobody adds, changes or deletes them here
(the retention sweep and account erasure are the only ways they change), and
opening one lands in its customer's activity history. The table holds millions of
rows, so its list never counts them all and is ordered by id, which the primary key
serves. Collectors are managed by superusers only (no staff group has their
permissions): created through the service, which shows the token once, and revoked,
never deleted.
"""

from __future__ import annotations

import contextlib
import ipaddress

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import RecordsStaffViewsMixin
from accounts.models import User
from cloudportal.core.admin import ReadOnlyAdminMixin
from cloudportal.core.pagination import CappedCountPaginator
from devices.mac import mac_parse

from .models import Collector, NetworkSession, Site
from .services import collector_create, collector_revoke


@admin.register(NetworkSession)
class NetworkSessionAdmin(RecordsStaffViewsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    viewed_category = "access_logs"
    list_display = ["started_at", "ended_at", "mac", "ip", "site", "email_display", "customer_display", "collector"]
    list_filter = ["collector", "started_at"]
    search_fields = ["session_id"]
    search_help_text = _("A whole MAC address (any usual spelling), a whole IP address, or a session id.")
    list_select_related = ["site", "subscriber__user", "collector"]
    ordering = ["-id"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = None
    fields = [
        "started_at",
        "ended_at",
        "mac",
        "ip",
        "site",
        "customer_display",
        "email_display",
        "bytes_in",
        "bytes_out",
        "collector",
        "session_id",
    ]

    readonly_fields = ["customer_display", "email_display"]

    def customer_of(self, obj: NetworkSession) -> User | None:
        return obj.subscriber.user if obj.subscriber_id else None

    @admin.display(description=_("customer"))
    def customer_display(self, obj: NetworkSession) -> User | None:
        return self.customer_of(obj)

    @admin.display(description=_("account email as recorded"))
    def email_display(self, obj: NetworkSession) -> str:
        return obj.subscriber.email if obj.subscriber_id else ""

    def get_search_results(self, request, queryset: QuerySet, search_term: str):
        """Exact matches only: a LIKE on a table this size would read all of it."""
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(session_id=term)
        with contextlib.suppress(ValidationError):
            matches |= Q(mac=mac_parse(term).canonical)
        with contextlib.suppress(ValueError):
            matches |= Q(ip=ipaddress.ip_address(term).compressed)
        return queryset.filter(matches), False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "address"]
    search_fields = ["name", "address"]
    ordering = ["name", "address"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # ingest creates sites as sessions name them

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # sessions point at them


class CollectorAddForm(forms.ModelForm):
    class Meta:
        model = Collector
        fields = ["name"]
        help_texts = {"name": _("The equipment or relay that will send sessions, e.g. “Paris north hotspots”.")}


@admin.register(Collector)
class CollectorAdmin(admin.ModelAdmin):
    list_display = ["name", "token_prefix", "created_at", "last_used_at", "revoked_at", "is_active_display"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    actions = ["revoke"]
    readonly_fields = ["name", "token_prefix", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description=_("active"), boolean=True)
    def is_active_display(self, obj: Collector) -> bool:
        return obj.is_active

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CollectorAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj: Collector, form, change: bool) -> None:
        if change:
            return  # nothing on a collector is edited; revoke it instead
        collector, token = collector_create(name=form.cleaned_data["name"])
        obj.pk = collector.pk
        obj.refresh_from_db()
        messages.success(
            request,
            format_html(
                _("The token of {name} is <code>{token}</code>. Copy it now: it will not be shown again."),
                name=collector.name,
                token=token,
            ),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: sessions name their collector

    @admin.action(description=_("Revoke the selected collectors"), permissions=["change"])
    def revoke(self, request, queryset: QuerySet) -> None:
        for collector in queryset.filter(revoked_at__isnull=True):
            collector_revoke(collector=collector)
        self.message_user(request, _("The selected collectors are revoked: their tokens are refused from now on."))
