"""Parse and validate customer input; no business rules here (who may hold a MAC
address is the service's concern)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .mac import mac_parse
from .models import Device

#: Longer than any spelling of a MAC address, short enough to refuse junk early.
MAC_INPUT_MAX_LENGTH = 40


class DeviceLabelForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=Device._meta.get_field("label").max_length,
        help_text=_("A name you will recognise it by, for example “Ada’s phone”. Optional."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DeviceForm(DeviceLabelForm):
    mac = forms.CharField(
        label=_("MAC address"),
        max_length=MAC_INPUT_MAX_LENGTH,
        help_text=_(
            "Shown in the device’s Wi-Fi or network settings, sometimes as “hardware” or “physical” address. "
            "Any usual spelling works: AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff or aabbccddeeff."
        ),
        error_messages={"max_length": _("This is too long to be a MAC address, which has twelve digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    field_order = ["mac", "label"]

    def clean_mac(self) -> str:
        return mac_parse(self.cleaned_data["mac"]).canonical
