"""Reads for customer-facing pages, always scoped to the customer."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ActivityEvent, DataRequest, Profile, User


def user_for_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def activity_for(*, user: User) -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.filter(user=user).select_related("actor").order_by("-created_at", "-id")


def data_requests_for(*, user: User) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(user=user).order_by("-created_at", "-id")


def profile_for(*, user: User) -> Profile:
    """The customer's profile, or an empty unsaved one: reading never writes."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)
