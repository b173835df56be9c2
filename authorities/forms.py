"""Forms of the authority-request screens: they parse what staff type; the rules
(window lengths, four eyes, what each status allows) are in lookups.py and services.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .models import AuthorityRequest, Lookup

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _datetime_field(label, help_text="", required=True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=capfirst(label),
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text=help_text,
    )


def _date_field(label, required=True) -> forms.DateField:
    return forms.DateField(label=capfirst(label), required=required, widget=forms.DateInput(attrs={"type": "date"}))


class AuthorityRequestForm(forms.ModelForm):
    class Meta:
        model = AuthorityRequest
        fields = list(AuthorityRequest.STAFF_FIELDS)
        widgets = {
            "received_on": forms.DateInput(attrs={"type": "date"}),
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "notice_from": forms.DateInput(attrs={"type": "date"}),
        }


class IpLookupForm(forms.Form):
    """An IP address at an instant, or in a window."""

    kind = Lookup.Kind.IP
    value = forms.CharField(
        label=capfirst(_("IP address")), max_length=60, help_text=_("IPv4 or IPv6, e.g. 203.0.113.7.")
    )
    at = _datetime_field(
        _("at"), help_text=_("The instant the authority names. Or give a window below."), required=False
    )
    starts_at = _datetime_field(_("or from"), required=False)
    ends_at = _datetime_field(
        _("to"),
        required=False,
        help_text=ngettext_lazy(
            "A window is at most %(days)s day long.", "A window is at most %(days)s days long.", "days"
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ends_at"].help_text = self.fields["ends_at"].help_text % {
            "days": settings.AUTHORITY_IP_WINDOW_MAX_DAYS
        }

    def clean(self):
        cleaned = super().clean()
        at, starts, ends = cleaned.get("at"), cleaned.get("starts_at"), cleaned.get("ends_at")
        if at and (starts or ends):
            raise forms.ValidationError(_("Give either an instant or a window, not both."))
        if at:
            cleaned["starts_at"] = cleaned["ends_at"] = at
        elif not (starts or ends) and not self.errors:
            raise forms.ValidationError(_("Give the instant, or the start and end of the window."))
        return cleaned


class RangeLookupForm(forms.Form):
    """A MAC address or an account, in a range of local days (both included)."""

    date_from = _date_field(_("from (day)"))
    date_to = _date_field(_("to (day, included)"))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first:
            cleaned["starts_at"] = timezone.make_aware(datetime.combine(first, time.min))
        if last:
            end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
            cleaned["ends_at"] = end - timedelta(microseconds=1)
        return cleaned


class MacLookupForm(RangeLookupForm):
    kind = Lookup.Kind.MAC
    value = forms.CharField(label=capfirst(_("MAC address")), max_length=40, help_text=_("In any usual spelling."))
    field_order = ["value", "date_from", "date_to"]


class AccountLookupForm(RangeLookupForm):
    kind = Lookup.Kind.ACCOUNT
    value = forms.CharField(
        label=capfirst(_("account email")),
        max_length=254,
        help_text=_("As sessions recorded it: the account's email then, whatever it is now."),
    )
    field_order = ["value", "date_from", "date_to"]


LOOKUP_FORMS = {form.kind: form for form in (IpLookupForm, MacLookupForm, AccountLookupForm)}

#: The service's field names mapped to the forms' (a range lookup's window is in days).
FORM_FIELD = {
    Lookup.Kind.IP: {"value": "value", "starts_at": "starts_at", "ends_at": "ends_at"},
    Lookup.Kind.MAC: {"value": "value", "starts_at": "date_from", "ends_at": "date_to"},
    Lookup.Kind.ACCOUNT: {"value": "value", "starts_at": "date_from", "ends_at": "date_to"},
}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=capfirst(_("reason")), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=capfirst(_("decision")), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=capfirst(_("reason")),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Recorded in the request's audit trail and the disclosure package."),
    )

    def __init__(self, *args, request: AuthorityRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = AuthorityRequest.Decision.choices
        if request.status == AuthorityRequest.Status.CHALLENGED:
            choices = [c for c in choices if c[0] != AuthorityRequest.Decision.CHALLENGED]
        self.fields["decision"].choices = choices
