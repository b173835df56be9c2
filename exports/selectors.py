"""Reads of a customer's data exports, always scoped to the customer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import DataExport


def exports_for(*, user: User) -> QuerySet[DataExport]:
    return DataExport.objects.filter(user=user).order_by("-created_at", "-id")


def export_for(*, user: User, pk: int) -> DataExport:
    """The customer's own export, or a 404 (another customer's id included)."""
    return get_object_or_404(exports_for(user=user), pk=pk)


def export_downloadable_for(*, user: User, pk: int) -> DataExport:
    """The customer's own export while it can be downloaded, or a 404."""
    export = export_for(user=user, pk=pk)
    if not export.is_downloadable():
        from django.http import Http404

        raise Http404
    return export
