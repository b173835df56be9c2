"""Which sessions are under legal hold: the one predicate the sweep, account erasure
and the customer's pages share.

`sessions_held_q()` is a Q on NetworkSession for the ORM; `sessions_held_sql()` is
the same predicate as SQL, for statements on a detached partition. Both come from
`held_scopes()`, so they cannot disagree. A session is held when, for some hold in
force, it matches the hold's scope (account, MAC or IP address) and was in progress
at some moment of the hold's range: it started before the range ends and ended after
it starts. Holds are few (orders from authorities), so the predicate is a short OR
of terms, each bounded in time, which the BRIN index on (started_at, ended_at) and
the per-customer indexes serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from .models import LegalHold

#: The session column each kind of scope is matched on.
SCOPE_COLUMNS = {
    LegalHold.Scope.ACCOUNT: "user_id",
    LegalHold.Scope.MAC: "mac",
    LegalHold.Scope.IP: "ip",
}


@dataclass(frozen=True)
class HeldScope:
    """One hold's scope, as the sessions table sees it."""

    hold_id: int
    column: str
    value: int | str
    since: datetime
    until: datetime | None
    notice: bool


def held_scopes(*, now: datetime | None = None, holds=None) -> list[HeldScope]:
    """The scopes of the holds in force at `now` (or of the given holds)."""
    if holds is None:
        holds = LegalHold.objects.active(now or timezone.now())
    scopes = []
    for hold in holds:
        value = {"user_id": hold.account_ref, "mac": hold.mac, "ip": hold.ip}[SCOPE_COLUMNS[hold.scope]]
        scopes.append(
            HeldScope(
                hold_id=hold.pk,
                column=SCOPE_COLUMNS[hold.scope],
                value=value,
                since=hold.starts_at,
                until=hold.ends_at,
                notice=hold.customer_may_be_told,
            )
        )
    return scopes


def _scope_q(scope: HeldScope) -> Q:
    q = Q(**{scope.column: scope.value}, ended_at__gte=scope.since)
    if scope.until is not None:
        q &= Q(started_at__lte=scope.until)
    return q


def sessions_held_q(*, now: datetime | None = None, scopes: list[HeldScope] | None = None) -> Q:
    """A Q matching the sessions under a hold in force at `now`. Matches nothing when
    no hold is in force: `NetworkSession.objects.exclude(sessions_held_q())` is then
    every session, and `.filter(...)` none."""
    scopes = held_scopes(now=now) if scopes is None else scopes
    if not scopes:
        return Q(pk__in=[])
    q = Q()
    for scope in scopes:
        q |= _scope_q(scope)
    return q


def sessions_held_sql(
    *, now: datetime | None = None, scopes: list[HeldScope] | None = None, alias: str = ""
) -> tuple[str, list]:
    """The same predicate as SQL with its parameters ("FALSE" when nothing is held),
    for statements Django does not write (a detached partition, a batched DELETE)."""
    scopes = held_scopes(now=now) if scopes is None else scopes
    if not scopes:
        return "FALSE", []
    prefix = f"{alias}." if alias else ""
    terms, params = [], []
    for scope in scopes:
        cast = "::inet" if scope.column == "ip" else ""
        term = f"({prefix}{scope.column} = %s{cast} AND {prefix}ended_at >= %s"
        params += [scope.value, scope.since]
        if scope.until is not None:
            term += f" AND {prefix}started_at <= %s"
            params.append(scope.until)
        terms.append(term + ")")
    return "(" + " OR ".join(terms) + ")", params


def session_is_held(session, scopes: list[HeldScope]) -> HeldScope | None:
    """The first scope holding this session, or None (in Python, for a page of rows)."""
    for scope in scopes:
        value = getattr(session, scope.column)
        if str(value) != str(scope.value) or session.ended_at < scope.since:
            continue
        if scope.until is not None and session.started_at > scope.until:
            continue
        return scope
    return None
