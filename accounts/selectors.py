"""Reads for customer-facing pages, always scoped to the customer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from cloudportal.privacy import activity_concealment

from .forms import country_choices
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


@dataclass(frozen=True)
class ProfileRow:
    name: str
    label: str | Promise
    #: As the customer reads it: "" when not given.
    value: str


def profile_rows(*, user: User) -> list[ProfileRow]:
    """The customer's profile as /me/ and "What we hold" show it: each editable field
    in order, with its label and its value for display (ID number and IBAN masked,
    the ID document type and the country by name)."""
    profile = profile_for(user=user)
    rows = []
    for name in Profile.EDITABLE_FIELDS:
        if name in Profile.SENSITIVE_FIELDS:
            value = profile.masked(name)
        elif name == "id_document_type":
            value = profile.get_id_document_type_display()
        elif name == "country":
            value = dict(country_choices()).get(profile.country, profile.country) if profile.country else ""
        else:
            value = getattr(profile, name)
        rows.append(ProfileRow(name=name, label=Profile._meta.get_field(name).verbose_name, value=str(value or "")))
    return rows
