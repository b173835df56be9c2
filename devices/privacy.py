"""The devices app's category in the privacy registry."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import User
from cloudportal.privacy import Category, Count, ErasureResult, register

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


def _devices_erase(user: User) -> ErasureResult:
    count, _by_model = Device.objects.filter(user=user).delete()
    return ErasureResult(deleted={gettext_noop("devices"): count})


register(
    Category(
        key="devices",
        label=_("Devices"),
        description=_("The devices you added, known by their MAC address, so that their sessions are yours."),
        fields=(_("MAC address"), _("label"), _("when you added it"), _("when it was last seen on our network")),
        purpose=_("To link the sessions of your devices on our network to your account, so that you can see them."),
        legal_basis=_("Performance of our contract with you"),
        retention=_("Until you remove the device or delete your account."),
        storage=_("Our PostgreSQL database, in EU data centres"),
        processors=(_("our hosting provider (data centres in the EU)"),),
        correction=_("Rename or remove them yourself on the Devices page."),
        correct_url="devices:list",
        models=("devices.Device",),
        counts=lambda user: [Count(_("devices"), Device.objects.filter(user=user).count())],
        sample=_devices_sample,
        export=_devices_export,
        erase=_devices_erase,
        order=40,
    )
)
