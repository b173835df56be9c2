from __future__ import annotations

from django.utils import timezone

from .models import StatementVersion


def statement_in_force() -> StatementVersion | None:
    """The published version with the latest effective date that has arrived."""
    return (
        StatementVersion.objects.filter(published_at__isnull=False, effective_at__lte=timezone.now())
        .order_by("-effective_at")
        .first()
    )
