"""Reads about account deletion."""

from __future__ import annotations

from django.utils import timezone

from .models import ErasureRequest


def erasure_pending_for(*, user_id: int | None) -> ErasureRequest | None:
    """The customer's deletion that can still be cancelled (pending, grace period
    not over), with the customer; None when there is none."""
    if user_id is None:
        return None
    return (
        ErasureRequest.objects.filter(
            user_id=user_id, status=ErasureRequest.Status.PENDING, erase_after__gt=timezone.now()
        )
        .select_related("user")
        .first()
    )
