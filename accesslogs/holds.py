"""Which sessions are under legal hold: the one predicate the sweep, account erasure
and the customer's pages share.

`sessions_held_q()` is a Q on NetworkSession for the ORM; `sessions_held_sql()` is
the same predicate as SQL, for statements on a detached partition. Both come from
`held_scopes()`, so they cannot disagree. A session is held when, for some hold in
force, it matches the hold's scope and was in progress at some moment of the hold's
range (it started before the range ends and ended after it starts). The scope is:

- an account: the session's subscriber is one of the account's (accesslogs.Subscriber,
  the account as sessions record it). The hold pins those subscriber ids
  (`legal_holds_pin`), and a detached subscriber keeps its id, so the former
  account's sessions stay held after the account is erased;
- a MAC address, or an IP address: the session's own column.

Holds are few (orders from authorities), so the predicate is a short OR of terms,
each bounded in time, which the BRIN index on (started_at, ended_at) and the
per-subscriber indexes serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cloudportal.fragments import everyone_changed
from cloudportal.sql import any_of
from compliance.models import LegalHold

from .models import NetworkSession, Subscriber

#: The session column each kind of scope is matched on.
SCOPE_COLUMNS = {
    LegalHold.Scope.ACCOUNT: "subscriber_id",
    LegalHold.Scope.MAC: "mac",
    LegalHold.Scope.IP: "ip",
}


@dataclass(frozen=True)
class HeldScope:
    """One hold's scope, as the sessions table sees it."""

    hold_id: int
    column: str
    values: tuple
    since: datetime
    until: datetime | None
    notice: bool


def _subscribers_by_account(holds: list[LegalHold]) -> dict[int, set[int]]:
    refs = {h.account_ref for h in holds if h.scope == LegalHold.Scope.ACCOUNT and h.account_ref}
    found: dict[int, set[int]] = {}
    if refs:
        for user_id, pk in Subscriber.objects.filter(user_id__in=refs).values_list("user_id", "id"):
            found.setdefault(user_id, set()).add(pk)
    return found


def held_scopes_noticeable(*, now: datetime | None = None) -> list[HeldScope]:
    """Scopes of the holds in force that customers may be told about."""
    return held_scopes(holds=LegalHold.objects.active(now).filter(customer_may_be_told=True))


def held_scopes(*, now: datetime | None = None, holds=None) -> list[HeldScope]:
    """The scopes of the holds in force at `now` (or of the given holds)."""
    if holds is None:
        holds = LegalHold.objects.active(now or timezone.now())
    holds = list(holds)
    current = _subscribers_by_account(holds)
    scopes = []
    for hold in holds:
        if hold.scope == LegalHold.Scope.ACCOUNT:
            values = tuple(sorted(set(hold.subscriber_ids) | current.get(hold.account_ref, set())))
        else:
            values = (hold.mac if hold.scope == LegalHold.Scope.MAC else hold.ip,)
        if not values:
            continue  # an account with no session recorded yet holds nothing
        scopes.append(
            HeldScope(
                hold_id=hold.pk,
                column=SCOPE_COLUMNS[hold.scope],
                values=values,
                since=hold.starts_at,
                until=hold.ends_at,
                notice=hold.customer_may_be_told,
            )
        )
    return scopes


@transaction.atomic
def legal_holds_pin(*, user_id: int | None = None) -> int:
    """Record on each account hold in force (of `user_id`, or all) the subscribers the
    account has now. Account erasure calls this before detaching the account's
    subscribers; placing a hold and each sweep call it too. Returns holds updated."""
    holds = LegalHold.objects.active().filter(scope=LegalHold.Scope.ACCOUNT).select_for_update()
    if user_id is not None:
        holds = holds.filter(account_ref=user_id)
    holds = list(holds)
    current = _subscribers_by_account(holds)
    updated = 0
    for hold in holds:
        pinned = sorted(set(hold.subscriber_ids) | current.get(hold.account_ref, set()))
        if pinned != sorted(hold.subscriber_ids):
            LegalHold.objects.filter(pk=hold.pk).update(subscriber_ids=pinned)
            updated += 1
    if updated:
        everyone_changed()
    return updated


def holds_pin_before_delete(sender, instance, **kwargs) -> None:
    """`pre_delete` of the user model: however an account is deleted, the holds on it
    pin its subscribers before Subscriber.user's on_delete detaches them."""
    legal_holds_pin(user_id=instance.pk)


def _scope_q(scope: HeldScope) -> Q:
    q = Q(**{f"{scope.column}__in": scope.values}, ended_at__gte=scope.since)
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
    for statements Django does not write (a detached partition, a batched DELETE).
    Negate it with `IS NOT TRUE`: a NULL subscriber makes a term NULL, not FALSE."""
    scopes = held_scopes(now=now) if scopes is None else scopes
    if not scopes:
        return "FALSE", []
    prefix = f"{alias}." if alias else ""
    terms, params = [], []
    for scope in scopes:
        array = {"ip": "inet[]", "mac": "text[]", "subscriber_id": "bigint[]"}[scope.column]
        values = [str(v) if scope.column != "subscriber_id" else v for v in scope.values]
        match, match_params = any_of(f"{prefix}{scope.column}", values, array_type=array)
        term = f"({match} AND {prefix}ended_at >= %s"
        params += [*match_params, scope.since]
        if scope.until is not None:
            term += f" AND {prefix}started_at <= %s"
            params.append(scope.until)
        terms.append(term + ")")
    return "(" + " OR ".join(terms) + ")", params


def holds_keeping_sessions(user, holds: list[LegalHold]) -> set[int]:
    """The access logs' `holds_keeping` in the registry: the ids of those of `holds`
    whose scope matches at least one of the customer's sessions (an IP address they
    used, a MAC address they had, within the hold's time range), whether or not the
    session is past its retention. One indexed EXISTS per hold: holds are few."""
    subscribers = list(Subscriber.objects.filter(user_id=user.pk).values_list("id", flat=True))
    if not subscribers or not holds:
        return set()
    mine = NetworkSession.objects.filter(subscriber_id__in=subscribers)
    return {scope.hold_id for scope in held_scopes(holds=holds) if mine.filter(_scope_q(scope)).exists()}


def session_is_held(session, scopes: list[HeldScope]) -> HeldScope | None:
    """The first scope holding this session, or None (in Python, for a page of rows)."""
    for scope in scopes:
        value = getattr(session, scope.column)
        if value is None or str(value) not in {str(v) for v in scope.values} or session.ended_at < scope.since:
            continue
        if scope.until is not None and session.started_at > scope.until:
            continue
        return scope
    return None
