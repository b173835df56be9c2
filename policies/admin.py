"""Staff screens for the privacy statement: drafts with preview and diff against the
version in force, publication (Privacy officer), processors and announcements."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cloudportal.core.admin import ReadOnlyAdminMixin

from .diff import statement_diff
from .models import Announcement, Processor, StatementAcceptance, StatementVersion
from .selectors import statement_in_force
from .services import announcement_send, statement_publish


@admin.register(StatementVersion)
class StatementVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "material", "effective_at", "published_at"]
    list_filter = ["material", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["version", "title"]
    readonly_fields = ["published_at"]
    fields = ["version", "title", "material", "effective_at", "changelog", "body", "published_at"]
    change_form_template = "admin/policies/statementversion/change_form.html"

    def has_change_permission(self, request, obj=None) -> bool:
        # Published versions never change: staff may look, not edit.
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the per-row check
        return actions

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name=f"{prefix}_preview"),
            path("<int:pk>/publish/", self.admin_site.admin_view(self.publish_view), name=f"{prefix}_publish"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["can_publish"] = not obj.is_published and request.user.has_perm(
                "policies.publish_statementversion"
            )
            extra_context["preview_url"] = reverse("admin:policies_statementversion_preview", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _context(self, request, version: StatementVersion) -> dict:
        in_force = statement_in_force()
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": version,
            "version": version,
            "in_force": in_force,
            "blocks": statement_diff(old=in_force.body, new=version.body)
            if in_force and in_force.pk != version.pk
            else None,
            "can_publish": not version.is_published and request.user.has_perm("policies.publish_statementversion"),
            "title": _("Preview of version %(version)s") % {"version": version.version},
        }

    def preview_view(self, request, pk: int):
        version = get_object_or_404(StatementVersion, pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return TemplateResponse(
            request, "admin/policies/statementversion/preview.html", self._context(request, version)
        )

    def publish_view(self, request, pk: int):
        if not request.user.has_perm("policies.publish_statementversion"):
            raise PermissionDenied
        version = get_object_or_404(StatementVersion, pk=pk)
        if request.method != "POST":
            return redirect("admin:policies_statementversion_preview", pk=pk)
        try:
            statement_publish(version=version)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("admin:policies_statementversion_preview", pk=pk)
        messages.success(
            request,
            _("Version %(version)s is published. Every customer will be emailed what changed and from when.")
            % {"version": version.version},
        )
        return redirect("admin:policies_statementversion_changelist")


@admin.register(StatementAcceptance)
class StatementAcceptanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["version", "accepted_at"]
    list_filter = ["version"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "version", "accepted_at", "ip_address", "user_agent"]
    show_full_result_count = False


@admin.register(Processor)
class ProcessorAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "location", "order"]
    list_editable = ["order"]
    search_fields = ["name"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["subject", "created_at", "sent_at", "recipients"]
    readonly_fields = ["sent_at", "recipients"]
    actions = ["send"]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.sent_at is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=gettext_lazy("Email to customers who opted in"), permissions=["change"])
    def send(self, request, queryset) -> None:
        sent = 0
        for announcement in queryset.filter(sent_at__isnull=True):
            announcement_send(announcement=announcement)
            sent += 1
        self.message_user(
            request,
            _("%(count)d announcement(s) queued for the customers who asked for them.") % {"count": sent},
            messages.SUCCESS,
        )
