"""Parse and validate customer input; no business rules here."""

from __future__ import annotations

import gettext
from functools import lru_cache

import phonenumbers
import pycountry
from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from cloudportal.privacy import categories

from .models import DataRequest, Profile, User


@lru_cache(maxsize=8)
def _country_names(language: str) -> list[tuple[str, str]]:
    try:
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        name = tr.gettext
    except OSError:
        name = str
    countries = [(c.alpha_2, name(c.name)) for c in pycountry.countries]
    return sorted(countries, key=lambda item: item[1])


def country_choices() -> list[tuple[str, str]]:
    return [("", _("—"))] + _country_names(translation.get_language() or settings.LANGUAGE_CODE)


class ProfileForm(forms.ModelForm):
    country = forms.ChoiceField(label=_("Country"), required=False, choices=())

    class Meta:
        model = Profile
        fields = Profile.EDITABLE_FIELDS
        widgets = {
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "iban": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "company": forms.TextInput(attrs={"autocomplete": "organization"}),
            "street": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }
        help_texts = {
            "phone": _("With the country code, e.g. +33 6 12 34 56 78, or in the format of the country chosen above."),
            "iban": _("For example FR76 3000 6000 0112 3456 7890 189. Spaces are fine."),
            "id_number": _("As printed on the document."),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if "country" in self.fields:
            self.fields["country"].choices = country_choices()
        if "id_document_type" in self.fields:  # a real empty choice, not Django's "---------"
            self.fields["id_document_type"].choices = [("", _("Not given"))] + Profile.IdDocumentType.choices

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        region = self.data.get(self.add_prefix("country")) or None
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(
                _("This is not a valid phone number. Include the country code, for example +33 6 12 34 56 78."),
                code="invalid_phone",
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean_iban(self) -> str:
        raw = self.cleaned_data.get("iban", "").strip()
        if not raw:
            return ""
        try:
            return IBAN(raw).compact
        except SchwiftyException:
            raise forms.ValidationError(
                _("This is not a valid IBAN. Check the country code, the check digits and the length."),
                code="invalid_iban",
            ) from None

    def clean_id_number(self) -> str:
        return " ".join(self.cleaned_data.get("id_number", "").split())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("id_number") and not cleaned.get("id_document_type"):
            self.add_error("id_document_type", _("Say which document this number is from."))
        return cleaned


class PreferencesForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    class Meta:
        model = User
        fields = ("email_service_improvement", "email_deletion_notices", "language")
        labels = {
            "email_service_improvement": _("Send me emails about improvements to the service"),
            "email_deletion_notices": _("Email me when some of my data is deleted"),
            "language": _("Language of pages and emails"),
        }
        help_texts = {
            "email_service_improvement": _("At most a few a year. Every one has a one-click unsubscribe link."),
            "email_deletion_notices": _("The final receipt after deleting your account is always sent."),
        }


def _category_choices() -> list[tuple[str, str]]:
    return [("", _("Not sure / several"))] + [(c.key, c.label) for c in categories()]


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you need?"), choices=DataRequest.Kind.choices, widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("Which data is it about?"), required=False, choices=())
    message = forms.CharField(
        label=_("Your request"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Say what you would like us to do and with which data; for a correction, what is wrong and what it "
            "should be; or what you would like to know."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()
