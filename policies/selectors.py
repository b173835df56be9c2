"""Reads about the privacy statement: the versions, what is in force, acceptances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Processor, StatementAcceptance, StatementVersion

#: What the acceptance gate needs on every request, kept in the cache.
STATE_CACHE_KEY = "policies:statement-state:v2"
STATE_MAX_SECONDS = 3600


def statements_published() -> QuerySet[StatementVersion]:
    return StatementVersion.objects.filter(published_at__isnull=False).order_by("-effective_at", "-id")


def statement_in_force(*, now: datetime | None = None) -> StatementVersion | None:
    """The published version with the latest effective date that has arrived."""
    return statements_published().filter(effective_at__lte=now or timezone.now()).first()


def statement_version_get(*, version: str) -> StatementVersion:
    """A published version by its number; a draft or an unknown number is a 404."""
    return get_object_or_404(statements_published(), version=version)


def statement_published_by_id(*, version_id: int) -> StatementVersion | None:
    """A published version by its id (the state's in_force_id), None if there is none."""
    return statements_published().filter(pk=version_id).first()


def statement_previous(*, version: StatementVersion) -> StatementVersion | None:
    """The published version before this one (by effective date), if any."""
    return (
        statements_published()
        .filter(effective_at__lte=version.effective_at)
        .exclude(pk=version.pk)
        .exclude(effective_at=version.effective_at, id__gt=version.pk)
        .first()
    )


@dataclass(frozen=True)
class StatementState:
    """The version in force, the material version every customer must have accepted
    (the latest material one in force), and the next published version, if any."""

    in_force_id: int | None
    required_id: int | None
    required_effective_at: datetime | None
    in_force_version: str | None = None
    upcoming_version: str | None = None
    upcoming_effective_at: datetime | None = None
    upcoming_material: bool = False


def statement_state_compute(*, now: datetime | None = None) -> tuple[StatementState, int]:
    """The state now, and for how many seconds it holds (until the next effective date)."""
    now = now or timezone.now()
    published = statements_published()
    in_force = published.filter(effective_at__lte=now).values("id", "version").first()
    required = published.filter(effective_at__lte=now, material=True).values("id", "effective_at").first()
    upcoming = (
        published.filter(effective_at__gt=now).order_by("effective_at").values("version", "effective_at", "material")
    ).first()
    seconds = STATE_MAX_SECONDS
    if upcoming is not None:
        seconds = max(1, min(seconds, int((upcoming["effective_at"] - now).total_seconds()) + 1))
    state = StatementState(
        in_force_id=in_force["id"] if in_force else None,
        required_id=required["id"] if required else None,
        required_effective_at=required["effective_at"] if required else None,
        in_force_version=in_force["version"] if in_force else None,
        upcoming_version=upcoming["version"] if upcoming else None,
        upcoming_effective_at=upcoming["effective_at"] if upcoming else None,
        upcoming_material=upcoming["material"] if upcoming else False,
    )
    return state, seconds


def statement_state_refresh() -> StatementState:
    """Compute the state and keep it in the cache until it can next change."""
    state, seconds = statement_state_compute()
    cache.set(STATE_CACHE_KEY, state, timeout=seconds)
    return state


def statement_state() -> StatementState:
    """The cached state: no database query while it holds. It is kept until a second
    past the upcoming version's effective date at most; from that date it is computed
    again, so the version takes effect on the dot."""
    state = cache.get(STATE_CACHE_KEY)
    if state is None or (state.upcoming_effective_at is not None and state.upcoming_effective_at <= timezone.now()):
        state = statement_state_refresh()
    return state


def acceptances_for(*, user) -> QuerySet[StatementAcceptance]:
    return StatementAcceptance.objects.filter(user=user).select_related("version").order_by("-accepted_at", "-id")


def acceptance_covers(*, user, state: StatementState) -> bool:
    """Has the customer accepted the required version, or a later one?"""
    if state.required_id is None:
        return True
    return StatementAcceptance.objects.filter(
        user=user, version__effective_at__gte=state.required_effective_at
    ).exists()


def acceptance_last(*, user) -> StatementAcceptance | None:
    """The customer's acceptance of the most recent version they accepted."""
    return (
        StatementAcceptance.objects.filter(user=user)
        .select_related("version")
        .order_by("-version__effective_at", "-accepted_at")
        .first()
    )


def processors_listed() -> QuerySet[Processor]:
    return Processor.objects.order_by("order", "name")
