"""Staff screens for customers, their profiles, activity and data requests.

Sensitive profile fields (ID number, IBAN) are masked for staff without the
`accounts.view_sensitive_profile` permission (Support); Privacy officers see and
edit them. Every staff view of a customer's record lands in the customer's activity
history, and every staff change goes through the services.
"""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cloudportal.core.admin import ReadOnlyAdminMixin
from cloudportal.dates import day_shown
from cloudportal.privacy import categories, category_label

from .data_requests import data_request_answer, data_request_assign, data_request_extend, data_request_extension_check
from .forms import ProfileForm
from .models import ActivityEvent, DataRequest, Profile, User
from .reveal import can_see_sensitive, is_revealed, reveal_view
from .services import account_suspend, profile_update, staff_view_record, user_change_record


class RecordsStaffViewsMixin:
    """A GET of a change screen about a customer, by someone else than that customer,
    lands in the customer's activity history, under `viewed_category`."""

    #: The privacy-registry category the screen shows.
    viewed_category = "profile"

    def customer_of(self, obj) -> User | None:
        return obj.user

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)
            customer = self.customer_of(obj) if obj is not None else None
            if customer is not None and customer.pk != request.user.pk:
                staff_view_record(user=customer, staff=request.user, category=self.viewed_category)
        return response


class SensitiveDisplayMixin:
    """Read-only displays of the sensitive fields: masked, or clear for a Privacy
    officer who gave a reason for this profile (accounts/reveal.py). `get_fields`
    picks per request; nothing is kept on the (shared) admin instance."""

    @admin.display(description=_("ID document number"))
    def id_number_masked(self, obj: Profile) -> str:
        return obj.masked("id_number")

    @admin.display(description=_("bank account (IBAN)"))
    def iban_masked(self, obj: Profile) -> str:
        return obj.masked("iban")

    @admin.display(description=_("ID document number"))
    def id_number_clear(self, obj: Profile) -> str:
        return obj.id_number

    @admin.display(description=_("bank account (IBAN)"))
    def iban_clear(self, obj: Profile) -> str:
        return obj.iban

    @admin.display(description=_("in clear"))
    def reveal_link(self, obj: Profile) -> str:
        if not obj.pk:
            return ""
        url = reverse("admin:accounts_profile_reveal", args=[obj.pk])
        if isinstance(self, admin.options.InlineModelAdmin):
            url += "?from=user"
        return format_html('<a href="{}">{}</a>', url, _("Show the ID number and IBAN, with a reason"))

    SENSITIVE_DISPLAYS = ["id_number_masked", "iban_masked", "id_number_clear", "iban_clear", "reveal_link"]

    @staticmethod
    def sensitive_displays(request, profile: Profile | None) -> list[str]:
        if is_revealed(request, profile.pk if profile else None):
            return ["id_number_clear", "iban_clear"]
        if can_see_sensitive(request) and profile is not None and profile.pk:
            return ["id_number_masked", "iban_masked", "reveal_link"]
        return ["id_number_masked", "iban_masked"]


class ProfileInline(SensitiveDisplayMixin, admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name_plural = _("profile")
    plain_fields = ["full_name", "company", "street", "postal_code", "city", "country", "phone", "id_document_type"]
    readonly_fields = [*plain_fields, *SensitiveDisplayMixin.SENSITIVE_DISPLAYS]

    def get_fields(self, request, obj=None):
        profile = Profile.objects.filter(user=obj).first() if obj is not None else None
        return [*self.plain_fields, *self.sensitive_displays(request, profile)]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # profiles are corrected on their own screen, through the service


@admin.register(User)
class UserAdmin(RecordsStaffViewsMixin, DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "is_active", "suspended_at", "is_staff", "date_joined", "last_login"]
    list_filter = [
        "is_active",
        ("suspended_at", admin.EmptyFieldListFilter),
        "is_staff",
        "groups",
        "language",
        "email_deletion_notices",
    ]
    actions = ["suspend", "reinstate"]
    search_fields = ["email"]
    show_full_result_count = False
    readonly_fields = ["date_joined", "last_login", "activity_link", "suspended_at"]
    inlines = [ProfileInline]
    fieldsets = [
        (None, {"fields": ["email", "password", "activity_link"]}),
        (_("Preferences"), {"fields": ["language", "email_service_improvement", "email_deletion_notices"]}),
        (
            _("Access"),
            {"fields": ["is_active", "suspended_at", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def customer_of(self, obj: User) -> User:
        return obj

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("activity history"))
    def activity_link(self, obj: User) -> str:
        if not obj.pk:
            return ""
        return format_html(
            '<a href="../../../activityevent/?user__id__exact={}">{}</a>', obj.pk, _("See this customer's activity")
        )

    def save_model(self, request, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and obj.pk != request.user.pk:
            user_change_record(user=obj, staff=request.user, fields=form.changed_data)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # see delete_view
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """Accounts are erased, never deleted as rows (erasure writes the receipt and the ledger and
        detaches what the law keeps): staff are pointed to the erasure app's action on this list
        instead of Django's confirmation page, which ended in a permission error."""
        pk = int(object_id) if str(object_id).isdigit() else 0
        link = f"{reverse('admin:accounts_user_changelist')}?id__exact={pk}"
        text = _(
            "A customer's account is not deleted here: it is erased, with the receipt, the ledger and "
            "what the law makes us keep. The customer deletes it at Delete your account; when they ask "
            "you to, select them in the list and choose the action"
        )
        action = _("Delete the account as the customer asked")
        messages.warning(request, format_html('{} <a href="{}">{}</a>', text, link, action))
        return redirect(reverse("admin:accounts_user_change", args=[object_id]))

    def has_suspend_permission(self, request) -> bool:
        return request.user.has_perm("accounts.suspend_user")

    @admin.action(permissions=["suspend"], description=_("Suspend: only export, delete and sign out"))
    def suspend(self, request, queryset) -> None:
        done = sum(account_suspend(user=u, staff=request.user) for u in queryset.exclude(pk=request.user.pk))
        self.message_user(request, _("Customers suspended: %(n)s.") % {"n": done}, messages.SUCCESS)

    @admin.action(permissions=["suspend"], description=_("Lift the suspension"))
    def reinstate(self, request, queryset) -> None:
        done = sum(account_suspend(user=u, staff=request.user, suspend=False) for u in queryset)
        self.message_user(request, _("Suspensions lifted: %(n)s.") % {"n": done}, messages.SUCCESS)


class StaffProfileForm(ProfileForm):
    class Meta(ProfileForm.Meta):
        fields = ["user", *Profile.EDITABLE_FIELDS]


@admin.register(Profile)
class ProfileAdmin(RecordsStaffViewsMixin, SensitiveDisplayMixin, admin.ModelAdmin):
    form = StaffProfileForm
    list_display = ["user", "full_name", "city", "country", "iban_masked"]
    search_fields = ["user__email", "full_name"]
    list_select_related = ["user"]
    show_full_result_count = False

    def get_urls(self):
        reveal = self.admin_site.admin_view(lambda request, pk: reveal_view(self, request, pk))
        return [path("<int:pk>/reveal/", reveal, name="accounts_profile_reveal"), *super().get_urls()]

    def _editable_sensitive(self, request, obj) -> bool:
        return is_revealed(request, obj.pk if obj else None) and self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        plain = [name for name in Profile.EDITABLE_FIELDS if name not in Profile.SENSITIVE_FIELDS]
        if self._editable_sensitive(request, obj):
            sensitive = list(Profile.SENSITIVE_FIELDS)
        else:
            sensitive = self.sensitive_displays(request, obj)
        return ["user", *plain, *sensitive, "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["user", "updated_at", *self.SENSITIVE_DISPLAYS]
        if not self.has_change_permission(request, obj):
            readonly += list(Profile.EDITABLE_FIELDS)
        return readonly

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Profile, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in Profile.EDITABLE_FIELDS if name in form.fields}
        profile_update(user=obj.user, actor=request.user, data=data)


class RegistryCategoryFilter(admin.SimpleListFilter):
    """The privacy registry's categories by name (the rows hold their keys)."""

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(c.key, c.label) for c in categories()]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(category=self.value()) if self.value() else queryset


class ActorKindFilter(admin.ChoicesFieldListFilter):
    """The field is called "by", and the admin titles a filter "By <title>"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("who acted")


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "category_name", "actor_kind", "actor"]
    list_filter = ["action", ("actor_kind", ActorKindFilter), RegistryCategoryFilter]
    search_fields = ["user__email"]
    list_select_related = ["user", "actor"]
    show_full_result_count = False
    date_hierarchy = "created_at"

    @admin.display(description=_("category"), ordering="category")
    def category_name(self, obj: ActivityEvent) -> str:
        return category_label(obj.category)


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("week", _("Due within 7 days"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        open_requests = queryset.exclude(status=DataRequest.Status.ANSWERED)
        now = timezone.now()
        if self.value() == "overdue":
            return open_requests.filter(due_at__lt=now)
        if self.value() == "week":
            return open_requests.filter(due_at__gte=now, due_at__lte=now + timezone.timedelta(days=7))
        return queryset


class DataRequestAdminForm(forms.ModelForm):
    extend_to = forms.DateField(
        label=_("Extend the due date to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most two months after the legal due date. The customer is emailed the reason."),
    )

    class Meta:
        model = DataRequest
        fields = ["assigned_to", "status", "extension_reason", "answer"]

    def clean(self):
        cleaned = super().clean()
        request_obj = self.instance
        extend_to = cleaned.get("extend_to")
        if extend_to:
            due = timezone.make_aware(datetime.combine(extend_to, time(23, 59)))
            try:
                data_request_extension_check(
                    data_request=request_obj, due_at=due, reason=cleaned.get("extension_reason", "")
                )
            except ValidationError as exc:
                raise ValidationError(exc.messages) from None
            cleaned["extend_to_at"] = due
        answer = (cleaned.get("answer") or "").strip()
        if cleaned.get("status") == DataRequest.Status.ANSWERED and not answer:
            self.add_error("answer", _("Write the answer the customer will receive."))
        if answer and not request_obj.is_open and answer != request_obj.answer:
            self.add_error("answer", _("This request has already been answered."))
        return cleaned


@admin.register(DataRequest)
class DataRequestAdmin(RecordsStaffViewsMixin, admin.ModelAdmin):
    form = DataRequestAdminForm
    # Seven columns fit a 1280 px screen: the due date carries the overdue flag, and
    # the filing date is on the request's page.
    list_display = ["reference", "user", "kind", "about", "status", "due", "assigned_to"]
    list_filter = [OverdueFilter, "status", "kind", RegistryCategoryFilter, "assigned_to"]
    search_fields = ["reference", "user__email", "id"]
    list_select_related = ["user", "assigned_to"]
    show_full_result_count = False
    actions = ["assign_to_me"]
    readonly_fields = [
        "reference",
        "user",
        "kind",
        "about",
        "message",
        "created_at",
        "due_at",
        "extended_at",
        "answered_at",
    ]
    fieldsets = [
        (None, {"fields": ["reference", "user", "kind", "about", "message", "created_at"]}),
        (_("Handling"), {"fields": ["assigned_to", "status", "due_at"]}),
        (_("Extension"), {"fields": ["extend_to", "extension_reason", "extended_at"]}),
        (_("Answer"), {"fields": ["answer", "answered_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False  # customers file requests in the portal

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("about"), ordering="category")
    def about(self, obj: DataRequest) -> str:
        return obj.category_label

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, obj: DataRequest) -> str:
        shown = day_shown(obj.due_at)
        if obj.is_overdue:
            return format_html('{} <strong class="overdue">{}</strong>', shown, _("OVERDUE"))
        return shown

    @admin.action(description=_("Assign to me"))
    def assign_to_me(self, request, queryset):
        for data_request in queryset.exclude(status=DataRequest.Status.ANSWERED):
            data_request_assign(data_request=data_request, staff=request.user)
        self.message_user(request, _("The requests are assigned to you."), messages.SUCCESS)

    def save_model(self, request, obj: DataRequest, form, change: bool) -> None:
        staff = request.user
        original = DataRequest.objects.get(pk=obj.pk)
        if form.cleaned_data.get("assigned_to") != original.assigned_to:
            data_request_assign(data_request=original, staff=form.cleaned_data.get("assigned_to"), by=staff)
        elif form.cleaned_data.get("status") not in (original.status, DataRequest.Status.ANSWERED) and original.is_open:
            DataRequest.objects.filter(pk=obj.pk).update(status=form.cleaned_data["status"])
        if form.cleaned_data.get("extend_to_at"):
            data_request_extend(
                data_request=DataRequest.objects.get(pk=obj.pk),
                staff=staff,
                due_at=form.cleaned_data["extend_to_at"],
                reason=form.cleaned_data["extension_reason"],
            )
        answer = (form.cleaned_data.get("answer") or "").strip()
        if answer and original.is_open:
            data_request_answer(data_request=original, staff=staff, answer=answer)
        obj.refresh_from_db()
