"""Reads of holds and disclosures for customers' pages and the public transparency page.

A hold that forbids notice never shows to the customer while it is in force: not on
/logs/ (held sessions past their retention look erased, the others show their usual
erase date), not in the activity history (entries made by staff since it was placed
wait until it ends), not in "What we hold"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cloudportal.months import add_months
from cloudportal.privacy import holds_keeping
from devices.models import Device

from .models import Disclosure, LegalHold
from .request_counts import OUTCOMES, authority_requests_counted, authority_requests_first_decided

#: How the transparency report names each outcome of a request from an authority.
OUTCOME_LABELS = {"disclosed": _("Disclosed"), "refused": _("Refused"), "challenged": _("Challenged")}


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


def hold_expiry_next(now: datetime) -> datetime | None:
    """When the next hold in force reaches its expiry (after `now`): what customers
    are told of holds changes then, with no write (cloudportal/fragments.py)."""
    upcoming = LegalHold.objects.filter(released_at__isnull=True, expires_at__gt=now)
    return upcoming.aggregate(next=Min("expires_at"))["next"]


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


#: Counts below the last bound are shown as the band they fall in, never exactly: a
#: small number could point to the few customers concerned. From it on, exactly.
BANDS = ((0, 9), (10, 49), (50, 99))


def band(count: int) -> str:
    """How the transparency report shows a count: "0–9", "10–49", "50–99", then the
    number itself from 100 on."""
    for low, high in BANDS:
        if low <= count <= high:
            return f"{low}\u2013{high}"
    return str(count)


@dataclass(frozen=True)
class HalfYear:
    """January to June (`half` 1) or July to December (`half` 2) of a year."""

    year: int
    half: int

    @classmethod
    def of(cls, day: date) -> HalfYear:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def next(self) -> HalfYear:
        return HalfYear(self.year, 2) if self.half == 1 else HalfYear(self.year + 1, 1)

    @property
    def previous(self) -> HalfYear:
        return HalfYear(self.year, 1) if self.half == 2 else HalfYear(self.year - 1, 2)

    @property
    def label(self) -> str:
        """ "January–June 2026", in the active language."""
        if self.half == 1:
            return gettext("January–June %(year)s") % {"year": self.year}
        return gettext("July–December %(year)s") % {"year": self.year}

    @property
    def published_on(self) -> date:
        """The day its report is published: TRANSPARENCY_DELAY_DAYS after it ends."""
        return self.next.first_day + timedelta(days=settings.TRANSPARENCY_DELAY_DAYS)


@dataclass(frozen=True)
class TransparencyPeriod:
    period: HalfYear
    #: The total, banded (see `band`).
    total: str
    #: (kind label, banded count) for every kind of authority, in the kinds' order.
    by_kind: list[tuple[str, str]]
    #: (outcome label, banded count) of the requests from authorities decided in the
    #: half-year, for each outcome of request_counts.OUTCOMES, in order.
    requests: list[tuple[str, str]]
    #: Their total, banded.
    requests_total: str


@dataclass(frozen=True)
class TransparencyReport:
    #: Published half-years, newest first.
    periods: list[TransparencyPeriod]
    #: The next half-year to be published, and when.
    upcoming: HalfYear


def transparency_latest(*, today: date | None = None) -> HalfYear:
    """The newest half-year whose report is published on `today`."""
    today = today or timezone.localdate()
    period = HalfYear.of(today).previous
    while period.published_on > today:
        period = period.previous
    return period


def transparency_report(*, today: date | None = None) -> TransparencyReport:
    """Disclosures to authorities per half-year and kind of authority, newest first:
    only half-years whose report is published (ended, then TRANSPARENCY_DELAY_DAYS),
    each from the first with a disclosure (or the latest alone), every count in its
    band. Counts only: nothing in it names or singles out a customer; a disclosure
    recorded today is counted nowhere before its half-year is published."""
    today = today or timezone.localdate()
    latest = transparency_latest(today=today)
    rows = (
        Disclosure.objects.filter(disclosed_on__lt=latest.next.first_day)
        .annotate(year=ExtractYear("disclosed_on"), month=ExtractMonth("disclosed_on"))
        .values("year", "month", "authority_kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[HalfYear, dict[str, int]] = {}
    for row in rows:
        kinds = counts.setdefault(HalfYear(row["year"], 1 if row["month"] <= 6 else 2), {})
        kinds[row["authority_kind"]] = kinds.get(row["authority_kind"], 0) + row["n"]
    starts = list(counts)
    if (decided := authority_requests_first_decided()) is not None:
        starts.append(HalfYear.of(decided))
    periods, period = [], latest
    first = min(starts, key=lambda p: (p.year, p.half), default=latest)
    while (period.year, period.half) >= (first.year, first.half):
        kinds = counts.get(period, {})
        decided = authority_requests_counted(start=period.first_day, end=period.next.first_day)
        by_outcome = [sum(decided[outcome].values()) for outcome in OUTCOMES]
        periods.append(
            TransparencyPeriod(
                period=period,
                total=band(sum(kinds.values())),
                by_kind=[(label, band(kinds.get(value, 0))) for value, label in Disclosure.AuthorityKind.choices],
                requests=[(str(OUTCOME_LABELS[o]), band(n)) for o, n in zip(OUTCOMES, by_outcome, strict=True)],
                requests_total=band(sum(by_outcome)),
            )
        )
        period = period.previous
    return TransparencyReport(periods=periods, upcoming=latest.next)
