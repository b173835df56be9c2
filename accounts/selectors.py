"""Reads for customer-facing pages, always scoped to the customer."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cloudportal.privacy import activity_concealment

from .models import ActivityEvent, DataRequest, Profile, User


def user_for_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def activity_for(*, user: User) -> QuerySet[ActivityEvent]:
    """The customer's history, newest first. While a legal hold that forbids notice
    concerns them, what staff did since it was placed (and the hold's own entries)
    stays out of it, and shows once the hold ends (SPEC §4)."""
    events = ActivityEvent.objects.filter(user=user)
    concealed = activity_concealment(user)
    if concealed is not None:
        events = events.exclude(
            Q(created_at__gte=concealed.since)
            & (Q(actor_kind=ActivityEvent.Actor.STAFF) | Q(category__in=concealed.categories))
        )
    return events.select_related("actor").order_by("-created_at", "-id")


def data_requests_for(*, user: User) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(user=user).order_by("-created_at", "-id")


def profile_for(*, user: User) -> Profile:
    """The customer's profile, or an empty unsaved one: reading never writes."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)
