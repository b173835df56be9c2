"""The devices app's category in the privacy registry."""

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cloudportal.privacy import CONTRACT, EU_DATABASE, HOSTING, Category, Count, erase_rows, noun, register

from .models import Device


def _devices_sample(user: User) -> list[str]:
    """MAC addresses in full: only the customer who holds them sees this."""
    return [str(device) for device in Device.objects.filter(user=user)[:3]]


def _devices_export(user: User) -> list[dict]:
    return [
        {
            "mac": device.mac,
            "label": device.label,
            "added": device.created_at.isoformat(),
            "last_seen": device.last_seen_at.isoformat() if device.last_seen_at else None,
            "randomised": device.is_randomised,
        }
        for device in Device.objects.filter(user=user)
    ]


register(
    Category(
        key="devices",
        label=_("Devices"),
        description=_("The devices you added, known by their MAC address, so that their sessions are yours."),
        fields=(_("MAC address"), _("label"), _("when you added it"), _("when it was last seen on our network")),
        purpose=_("To link the sessions of your devices on our network to your account, so that you can see them."),
        legal_basis=CONTRACT,
        retention=_("Until you remove the device or delete your account."),
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_("Rename or remove them yourself on the Devices page."),
        correct_url="devices:list",
        models=("devices.Device",),
        columns=("mac", "label", "added", "last_seen", "randomised"),
        counts=lambda user: [Count(noun("device", "devices"), Device.objects.filter(user=user))],
        sample=_devices_sample,
        export=_devices_export,
        erase=lambda user: erase_rows(noun("device", "devices"), Device.objects.filter(user=user)),
        order=40,
    )
)
