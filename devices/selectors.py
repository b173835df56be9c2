"""Reads for customer-facing pages, always scoped to the customer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import Device


def devices_for(*, user: User) -> QuerySet[Device]:
    """The customer's devices, each with its `session_count` (kept on the device)."""
    return Device.objects.filter(user=user)


def device_for(*, user: User, pk: int) -> Device:
    """One of the customer's devices; anyone else's is a 404."""
    return get_object_or_404(Device.objects.filter(user=user).select_related("user"), pk=pk)
