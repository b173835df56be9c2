"""What the dashboard shows, gathered from the apps it composes (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from accesslogs.selectors import session_page
from accounts.models import User
from accounts.selectors import data_requests_for
from cloudportal.privacy import categories, counts_of
from devices.selectors import devices_for
from policies.selectors import statement_state

#: How many devices, recent sessions and requests the dashboard looks at.
DEVICES_SHOWN = 10
SESSIONS_SHOWN = 3
REQUESTS_READ = 20
#: A request answered this recently is announced at the top of the dashboard.
ANSWERED_RECENTLY = timedelta(days=30)


@dataclass(frozen=True)
class StatementChange:
    """A published statement version that is not in force yet."""

    version: str
    effective_at: datetime
    material: bool
    #: The version in force now, to show the differences from; None when there is none.
    in_force_version: str | None


@dataclass(frozen=True)
class Dashboard:
    devices: list
    #: Each device's name as the customer knows it, by MAC address.
    device_labels: dict[str, str]
    recent_sessions: list
    #: Labels of the registry categories in which the portal holds something about the customer.
    categories_held: list
    open_requests: int
    answered_recently: bool
    statement_change: StatementChange | None


def statement_change_upcoming() -> StatementChange | None:
    """The next statement version, if one is published and not in force yet (cached: no query)."""
    state = statement_state()
    if state.upcoming_version is None:
        return None
    return StatementChange(
        version=state.upcoming_version,
        effective_at=state.upcoming_effective_at,
        material=state.upcoming_material,
        in_force_version=state.in_force_version,
    )


def categories_held(*, user: User) -> list:
    """The labels of the registry categories in which the portal holds something about
    the customer, from their counts read in one query."""
    counts = counts_of(user)
    return [c.label for c in categories() if any(count.value for count in counts[c.key])]


def dashboard_for(*, user: User, now: datetime | None = None) -> Dashboard:
    """Data held at a glance, from the registry, and what waits for the customer."""
    now = now or timezone.now()
    requests = list(data_requests_for(user=user)[:REQUESTS_READ])
    devices = list(devices_for(user=user)[:DEVICES_SHOWN])
    return Dashboard(
        devices=devices,
        device_labels={d.mac: d.label or d.mac for d in devices},
        recent_sessions=session_page(user=user, size=SESSIONS_SHOWN).sessions,
        categories_held=categories_held(user=user),
        open_requests=sum(1 for r in requests if r.is_open),
        answered_recently=any(r.answered_at and r.answered_at > now - ANSWERED_RECENTLY for r in requests),
        statement_change=statement_change_upcoming(),
    )
