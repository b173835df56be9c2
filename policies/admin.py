"""Staff screens for the privacy statement: drafts with preview and diff against the
version in force, publication (Privacy officer), processors and announcements."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cloudportal.core.admin import ReadOnlyAdminMixin

from .diff import statement_diff
from .models import Announcement, Processor, StatementAcceptance, StatementVersion
from .selectors import statement_in_force, statements_published
from .services import announcement_send, statement_publish

#: Texts a draft is copied and compared by; line endings are stored as "\n".
_MARKDOWN_FIELDS = ("body", "body_fr", "changelog", "changelog_fr")


class StatementVersionForm(forms.ModelForm):
    """The Markdown texts as typed: not stripped, and with the browser's "\r\n"
    line endings made "\n", so a draft copied from a version and saved unchanged is
    the same source, byte for byte."""

    class Meta:
        model = StatementVersion
        fields = [
            "version",
            "material",
            "effective_at",
            "title",
            "title_fr",
            "changelog",
            "changelog_fr",
            "body",
            "body_fr",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in _MARKDOWN_FIELDS:
            if name in self.fields:
                self.fields[name].strip = False

    def clean(self):
        cleaned = super().clean()
        for name in _MARKDOWN_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].replace("\r\n", "\n")
        return cleaned


@admin.register(StatementVersion)
class StatementVersionAdmin(admin.ModelAdmin):
    form = StatementVersionForm
    list_display = ["version", "material", "effective_at", "published_at", "in_french"]
    list_filter = ["material", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["version", "title", "title_fr"]
    readonly_fields = ["published_at"]
    fieldsets = [
        (None, {"fields": ["version", "material", "effective_at", "published_at"]}),
        (gettext_lazy("English"), {"fields": ["title", "changelog", "body"]}),
        (
            gettext_lazy("French"),
            {
                "fields": ["title_fr", "changelog_fr", "body_fr"],
                "description": gettext_lazy(
                    "Required to publish: a customer reads, is told of and accepts the statement in their language."
                ),
            },
        ),
    ]
    change_form_template = "admin/policies/statementversion/change_form.html"
    change_list_template = "admin/policies/statementversion/change_list.html"

    @admin.display(description=gettext_lazy("in French"), boolean=True)
    def in_french(self, obj: StatementVersion) -> bool:
        return obj.has_french()

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

    def get_changeform_initial_data(self, request) -> dict:
        """ "New draft from the version in force": its texts, exactly, in both
        languages (`?from=<id>` of a published version). The changelog, the number
        and the date are the new draft's own."""
        initial = super().get_changeform_initial_data(request)
        source_id = request.GET.get("from", "")
        source = statements_published().filter(pk=source_id).first() if source_id.isdigit() else None
        if source is not None:
            initial.update({name: getattr(source, name) for name in ("title", "title_fr", "body", "body_fr")})
            initial["material"] = source.material
        return initial

    def changelist_view(self, request, extra_context=None):
        in_force = statement_in_force()
        extra_context = {**(extra_context or {}), "in_force": in_force}
        if in_force is not None and self.has_add_permission(request):
            extra_context["draft_from_in_force_url"] = (
                reverse("admin:policies_statementversion_add") + f"?from={in_force.pk}"
            )
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["can_publish"] = not obj.is_published and request.user.has_perm(
                "policies.publish_statementversion"
            )
            extra_context["preview_url"] = reverse("admin:policies_statementversion_preview", args=[obj.pk])
            if obj.is_published and self.has_add_permission(request):
                extra_context["draft_from_url"] = reverse("admin:policies_statementversion_add") + f"?from={obj.pk}"
        return super().change_view(request, object_id, form_url, extra_context)

    def _context(self, request, version: StatementVersion) -> dict:
        in_force = statement_in_force()
        compare = in_force is not None and in_force.pk != version.pk
        languages = []
        for code, name in settings.LANGUAGES:
            suffix = "" if code == "en" else f"_{code}"  # English is the field without a suffix
            body = getattr(version, f"body{suffix}")
            # A version in force published before the French texts has none to compare with.
            old = getattr(in_force, f"body{suffix}") if compare else ""
            languages.append(
                {
                    "code": code,
                    "name": name,
                    "title": getattr(version, f"title{suffix}"),
                    "changelog": getattr(version, f"changelog{suffix}"),
                    "body": body,
                    "blocks": statement_diff(old=old, new=body) if old and body else None,
                }
            )
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": version,
            "version": version,
            "in_force": in_force if compare else None,
            "languages": languages,
            "missing": version.texts_missing(),
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
    list_display = ["version", "language", "accepted_at"]
    list_filter = ["version", "language"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "version", "language", "accepted_at", "ip_address", "user_agent"]
    show_full_result_count = False


@admin.register(Processor)
class ProcessorAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "location", "order"]
    list_editable = ["order"]
    search_fields = ["name"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["subject", "created_at", "sent_at", "recipients", "in_french"]
    readonly_fields = ["sent_at", "recipients"]
    fieldsets = [
        (gettext_lazy("English"), {"fields": ["subject", "body"]}),
        (
            gettext_lazy("French"),
            {
                "fields": ["subject_fr", "body_fr"],
                "description": gettext_lazy("Required to send: each customer is written to in their language."),
            },
        ),
        (None, {"fields": ["sent_at", "recipients"]}),
    ]
    actions = ["send"]

    @admin.display(description=gettext_lazy("in French"), boolean=True)
    def in_french(self, obj: Announcement) -> bool:
        return obj.has_french()

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.sent_at is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=gettext_lazy("Email to customers who opted in"), permissions=["change"])
    def send(self, request, queryset) -> None:
        sent = 0
        for announcement in queryset.filter(sent_at__isnull=True):
            try:
                announcement_send(announcement=announcement)
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, f"{announcement.subject}: {message}", messages.ERROR)
                continue
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d announcement queued for the customers who asked for them.",
                    "%(count)d announcements queued for the customers who asked for them.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
