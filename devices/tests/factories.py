"""Devices factories. Each device gets a MAC address of its own: globally
administered (not randomised) unicast, counting up from 00:1A:2B:00:00:01."""

import factory

from accounts.tests.factories import VerifiedUserFactory
from devices.models import Device


def mac_for(n: int) -> str:
    return "00:1A:2B:" + ":".join(f"{(n >> shift) & 0xFF:02X}" for shift in (16, 8, 0))


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    user = factory.SubFactory(VerifiedUserFactory)
    mac = factory.Sequence(lambda n: mac_for(n + 1))
    label = factory.Sequence(lambda n: f"Device {n + 1}")
