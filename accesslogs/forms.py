"""Parse and validate customer input; no business rules here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from cloudportal.dates import ShownDateField
from devices.models import Device

from .selectors import SessionFilters

#: Dates outside [EARLIEST_DATE, today + LATEST_DAYS_AHEAD] are typing mistakes: no
#: session is that old, and none is recorded ahead of its time.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DAYS_AHEAD = 366


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class SessionFilterForm(forms.Form):
    """The filters of /logs/, read from the query string. The device choices are the
    customer's own devices: anyone else's id is just not a valid choice."""

    device = forms.TypedChoiceField(
        label=_("Device"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose one of your devices.")},
    )
    date_from = ShownDateField(
        label=_("From"),
        required=False,
        widget=_DateInput(),
        error_messages={"invalid": _("Enter a real date, for example 2026-03-01.")},
    )
    date_to = ShownDateField(
        label=_("To"),
        required=False,
        widget=_DateInput(),
        help_text=_("Both days included."),
        error_messages={"invalid": _("Enter a real date, for example 2026-03-31.")},
    )
    ip = forms.GenericIPAddressField(
        label=_("IP address"),
        required=False,
        help_text=_("An IPv4 or IPv6 address, matched exactly."),
        error_messages={"invalid": _("Enter an IPv4 address such as 192.0.2.10, or an IPv6 address.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )

    def __init__(self, *args, devices: Iterable[Device], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.devices = {device.pk: device for device in devices}
        self.fields["device"].choices = [("", _("All devices"))] + [
            (pk, str(device)) for pk, device in self.devices.items()
        ]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        latest = timezone.localdate() + timedelta(days=LATEST_DAYS_AHEAD)
        if day is not None and not EARLIEST_DATE <= day <= latest:
            raise forms.ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": date_format(EARLIEST_DATE), "latest": date_format(latest)},
                code="out_of_range",
            )
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def chosen_device(self) -> Device | None:
        pk = self.cleaned_data.get("device")
        return self.devices.get(pk) if pk is not None else None

    def filters(self) -> SessionFilters:
        """What the valid form asks for."""
        device = self.chosen_device()
        return SessionFilters(
            mac=device.mac if device else None,
            date_from=self.cleaned_data.get("date_from"),
            date_to=self.cleaned_data.get("date_to"),
            ip=self.cleaned_data.get("ip") or None,
        )
