"""Revealing a customer's ID number and IBAN in the admin, with a reason.

Privacy officers (permission `accounts.view_sensitive_profile`) see them masked like
everyone else until they give a reason (accounts.reasons) on the reveal page; the
reveal lands in the customer's activity history with that reason, and the values
then show in clear (and can be corrected) on that profile's screens for
REVEAL_SECONDS, for that staff member's sign-in session only.
"""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Profile
from .reasons import reference_kinds, staff_reason_make
from .services import staff_view_record

SENSITIVE_PERMISSION = "accounts.view_sensitive_profile"
#: How long a reveal lasts on the profile's screens.
REVEAL_SECONDS = 10 * 60
_SESSION_KEY = "accounts_revealed_profiles"


def can_see_sensitive(request) -> bool:
    return request.user.has_perm(SENSITIVE_PERMISSION)


def is_revealed(request, profile_pk: int | None) -> bool:
    """The staff member gave a reason for this profile in the last REVEAL_SECONDS."""
    if profile_pk is None or not can_see_sensitive(request):
        return False
    until = request.session.get(_SESSION_KEY, {}).get(str(profile_pk), 0)
    return until > time.time()


def _grant(request, profile_pk: int) -> None:
    now = time.time()
    grants = {k: v for k, v in request.session.get(_SESSION_KEY, {}).items() if v > now}
    grants[str(profile_pk)] = now + REVEAL_SECONDS
    request.session[_SESSION_KEY] = grants


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=capfirst(gettext_lazy("Why do you need to see them?")),
        required=False,
        max_length=180,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The customer reads this in their activity history."),
    )
    reference_kind = forms.ChoiceField(label=capfirst(gettext_lazy("or the record it is for")), required=False)
    reference_number = forms.IntegerField(label=capfirst(gettext_lazy("number")), required=False, min_value=1)

    def __init__(self, *args, profile: Profile, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.fields["reference_kind"].choices = [("", "—")] + [
            (k.key, str(k.label) % {"number": "…"}) for k in reference_kinds()
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # A ValidationError by field lands by its field.
        cleaned["note"] = staff_reason_make(
            user=self.profile.user,
            reason=cleaned.get("reason", ""),
            kind=cleaned.get("reference_kind", ""),
            number=cleaned.get("reference_number"),
        )
        return cleaned


def reveal_view(model_admin, request, pk: int):
    """GET: the form; POST: record the reveal with its reason and go back to the profile."""
    profile = get_object_or_404(Profile.objects.select_related("user"), pk=pk)
    if not (can_see_sensitive(request) and model_admin.has_view_permission(request, profile)):
        raise PermissionDenied
    form = RevealForm(request.POST or None, profile=profile)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            staff_view_record(
                user=profile.user,
                staff=request.user,
                category="profile",
                fields=list(Profile.SENSITIVE_FIELDS),
                reason=form.cleaned_data["note"],
            )
            _grant(request, profile.pk)
            messages.success(
                request,
                _("The ID number and IBAN show in clear for %(minutes)s minutes.") % {"minutes": REVEAL_SECONDS // 60},
            )
            if request.GET.get("from") == "user":
                return redirect("admin:accounts_user_change", profile.user_id)
            return redirect("admin:accounts_profile_change", profile.pk)
        status = 400
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": profile,
        "title": _("Show the ID number and IBAN of %(customer)s") % {"customer": profile.user},
        "form": form,
    }
    return TemplateResponse(request, "admin/accounts/profile/reveal.html", context, status=status)
