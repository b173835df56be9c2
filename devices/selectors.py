"""Reads for customer-facing pages, always scoped to the customer."""

from __future__ import annotations

from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accesslogs.models import DailyUsage
from accounts.models import User

from .models import Device


def devices_for(*, user: User) -> QuerySet[Device]:
    """The customer's devices, each with `session_count`: the sessions recorded for
    this customer with its MAC address, summed from the daily rollup in the same
    query, however many devices there are."""
    sessions = (
        DailyUsage.objects.filter(user=user, mac=OuterRef("mac"))
        .order_by()
        .values("mac")
        .annotate(total=Sum("sessions"))
        .values("total")
    )
    return Device.objects.filter(user=user).annotate(
        session_count=Coalesce(Subquery(sessions, output_field=IntegerField()), Value(0))
    )


def device_for(*, user: User, pk: int) -> Device:
    """One of the customer's devices; anyone else's is a 404."""
    return get_object_or_404(Device.objects.filter(user=user).select_related("user"), pk=pk)
