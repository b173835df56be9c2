"""Reads of holds and disclosures for customers' pages and the public transparency page.

A hold that forbids notice never shows to the customer while it is in force: not on
/logs/ (held sessions past their retention look erased, the others show their usual
erase date), not in the activity history (entries made by staff since it was placed
wait until it ends), not in "What we hold"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone

from accounts.models import User
from cloudportal.months import add_months
from cloudportal.privacy import holds_keeping
from devices.models import Device

from .models import Disclosure, LegalHold


def holds_concerning(
    *, user: User, now: datetime | None = None, among: QuerySet[LegalHold] | None = None
) -> QuerySet[LegalHold]:
    """Holds (of `among`, or all) on the customer's account or on a MAC address of one
    of their devices, and the holds that keep some of their records otherwise (an IP
    address of one of their sessions, a MAC address they no longer have: the
    registry's categories say which) while in force, or for the retention period
    after they ended (what they kept may still be there; later, nothing of it is)."""
    now = now or timezone.now()
    among = LegalHold.objects.all() if among is None else among
    macs = Device.objects.filter(user=user).values("mac")
    direct = Q(scope=LegalHold.Scope.ACCOUNT, account_ref=user.pk) | Q(scope=LegalHold.Scope.MAC, mac__in=macs)
    ended_since = add_months(now, -settings.ACCESS_LOG_RETENTION_MONTHS)
    lately = Q(released_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gte=ended_since))
    others = among.exclude(direct).filter(lately | Q(released_at__gte=ended_since))
    keeping = holds_keeping(user, list(others))
    return among.filter(direct | Q(pk__in=keeping))


def holds_visible_to(*, user: User, now: datetime | None = None) -> QuerySet[LegalHold]:
    """The holds concerning the customer that they may know of: those that allow
    notice, and any that ended."""
    now = now or timezone.now()
    active = LegalHold.objects.active(now).values("pk")
    told = LegalHold.objects.filter(Q(customer_may_be_told=True) | ~Q(pk__in=active))
    return holds_concerning(user=user, now=now, among=told)


def activity_concealed_since(*, user: User, now: datetime | None = None) -> datetime | None:
    """When the earliest hold in force that concerns the customer and forbids notice
    was placed, whatever its scope (their account, a MAC address they have or had, an
    IP address they used, in its time range); entries by staff (and about holds)
    since then stay hidden from the customer until it ends. None when no such hold
    is in force."""
    secret = holds_concerning(
        user=user, now=now, among=LegalHold.objects.active(now).filter(customer_may_be_told=False)
    )
    return secret.aggregate(since=Min("created_at"))["since"]


def disclosures_for(*, user: User, today: date | None = None) -> QuerySet[Disclosure]:
    """The customer's disclosures they may see today, newest first."""
    today = today or timezone.localdate()
    return Disclosure.objects.filter(customer=user, visible_from__lte=today).order_by("-disclosed_on", "-id")


@dataclass(frozen=True)
class TransparencyYear:
    year: int
    total: int
    #: (kind label, count) for every kind of authority, in the kinds' order.
    by_kind: list[tuple[str, int]]


def transparency_report() -> list[TransparencyYear]:
    """Disclosures to authorities counted by year and kind of authority, newest year
    first. Counts only: nothing in it names or singles out a customer."""
    rows = (
        Disclosure.objects.annotate(year=ExtractYear("disclosed_on"))
        .values("year", "authority_kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_year: dict[int, dict[str, int]] = {}
    for row in rows:
        per_year.setdefault(row["year"], {})[row["authority_kind"]] = row["n"]
    return [
        TransparencyYear(
            year=year,
            total=sum(kinds.values()),
            by_kind=[(label, kinds.get(value, 0)) for value, label in Disclosure.AuthorityKind.choices],
        )
        for year, kinds in sorted(per_year.items(), reverse=True)
    ]
