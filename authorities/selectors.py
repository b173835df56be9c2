"""Reads of authority requests for the staff screens: who prepared a request (they may
not decide it), and a lookup's results, masked until the request is approved."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, QuerySet

from .models import AuthorityRequest, Lookup, LookupMatch, RequestEvent

MASK = "•••"
#: Rows a results page lists; the package holds all of them.
RESULTS_SHOWN = 500


def request_preparers(*, request: AuthorityRequest) -> set[int]:
    """Ids of the staff who prepared the request: who opened it, the officer in
    charge, whoever ran one of its lookups or sent it for approval. None of them
    may decide it (four eyes)."""
    ids = {request.created_by_id, request.officer_id}
    ids |= set(Lookup.objects.filter(request=request).values_list("created_by_id", flat=True))
    ids |= set(
        RequestEvent.objects.filter(request=request, action=RequestEvent.Action.SUBMITTED).values_list(
            "staff_id", flat=True
        )
    )
    return {i for i in ids if i is not None}


def may_see_unmasked(request: AuthorityRequest) -> bool:
    """Results show in clear only once a second officer approved the disclosure."""
    return request.decision == AuthorityRequest.Decision.APPROVED and request.closed_at is None


# --- Masking --------------------------------------------------------------------


def mask_email(email: str) -> str:
    """`a•••@e•••.com`: enough to tell two addresses apart, not to read one."""
    if not email or "@" not in email:
        return MASK if email else ""
    local, _at, domain = email.rpartition("@")
    name, dot, tld = domain.rpartition(".")
    return f"{local[:1]}{MASK}@{(name or tld)[:1]}{MASK}{dot}{tld if name else ''}"


def mask_mac(mac: str) -> str:
    """The maker's part (the first three octets) only: `AA:BB:CC:•••`."""
    return f"{mac[:8]}:{MASK}" if mac else ""


def mask_ip(ip: str) -> str:
    """`203.0.113.•••`, or the first two groups of an IPv6 address."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + f".{MASK}"
    return ":".join(address.exploded.split(":")[:2]) + f":{MASK}"


# --- Results --------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    started_at: datetime
    ended_at: datetime
    mac: str
    ip: str
    site: str
    email: str
    #: "customer 1", "customer 2"…: the same number for the same account across the
    #: request, so staff can count without seeing who; None for an unattributed session.
    customer: int | None
    account_ref: int | None
    bytes_in: int
    bytes_out: int


@dataclass(frozen=True)
class Results:
    lookup: Lookup
    masked: bool
    sessions: int
    accounts: int
    unattributed: int
    first: datetime | None
    last: datetime | None
    rows: list[ResultRow]


def customer_numbers(*, request: AuthorityRequest) -> dict[int, int]:
    """The account numbers of the request's matches mapped to 1, 2, … in the order
    each first appears in the request (lookup by lookup, oldest session first)."""
    firsts = (
        LookupMatch.objects.filter(lookup__request=request, account_ref__isnull=False)
        .values("account_ref")
        .annotate(lookup=Min("lookup_id"), first=Min("started_at"))
        .order_by("lookup", "first", "account_ref")
    )
    return {row["account_ref"]: n for n, row in enumerate(firsts, start=1)}


def matches_of(*, lookup: Lookup) -> QuerySet[LookupMatch]:
    return LookupMatch.objects.filter(lookup=lookup).order_by("started_at", "session_pk")


def lookup_results(*, lookup: Lookup, masked: bool, limit: int = RESULTS_SHOWN) -> Results:
    """The lookup's counts and its first `limit` rows, masked unless asked otherwise
    (the caller checks `may_see_unmasked` and records why)."""
    numbers = customer_numbers(request=lookup.request)
    matches = matches_of(lookup=lookup)
    span = matches.aggregate(first=Min("started_at"), last=Max("ended_at"), n=Count("id"))
    unattributed = matches.filter(account_ref__isnull=True).count()
    rows = []
    for m in matches[:limit]:
        ip = str(m.ip)
        rows.append(
            ResultRow(
                started_at=m.started_at,
                ended_at=m.ended_at,
                mac=mask_mac(m.mac) if masked else m.mac,
                ip=mask_ip(ip) if masked else ip,
                site=MASK if masked else (f"{m.site}, {m.site_address}" if m.site_address else m.site),
                email=mask_email(m.email) if masked else m.email,
                customer=numbers.get(m.account_ref),
                account_ref=None if masked else m.account_ref,
                bytes_in=m.bytes_in,
                bytes_out=m.bytes_out,
            )
        )
    return Results(
        lookup=lookup,
        masked=masked,
        sessions=span["n"],
        accounts=lookup.accounts,
        unattributed=unattributed,
        first=span["first"],
        last=span["last"],
        rows=rows,
    )


def accounts_concerned(*, request: AuthorityRequest) -> list[int]:
    """The accounts the request's lookups matched sessions of, as recorded."""
    return sorted(
        LookupMatch.objects.filter(lookup__request=request, account_ref__isnull=False)
        .values_list("account_ref", flat=True)
        .distinct()
    )
