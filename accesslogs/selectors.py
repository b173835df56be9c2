"""Reads of a customer's sessions for customer-facing pages, always scoped to the customer.

A customer's sessions are those attributed to their account when they were recorded
(SPEC §3, Attribution), through the account's subscribers (one per email the account
had when sessions were recorded; nearly always one). Every read filters on
`subscriber_id`: the partial indexes (subscriber_id, started_at, id), and the same
with mac and with ip, serve it, newest first.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

from django.db.models import Case, Count, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from cloudportal.privacy import BulkExport
from devices.models import Device

from .holds import HeldScope, held_scopes_noticeable
from .models import DailyUsage, NetworkSession, Site, Subscriber
from .shown import erasure_text_sql, sessions_shown_q, sessions_shown_sql

PAGE_SIZE = 50
#: Largest value of a bigint primary key.
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class SessionFilters:
    """What the customer narrowed their sessions to; every part is optional.

    `mac` is the canonical MAC address of one of the customer's devices; `date_from`
    and `date_to` are local days (settings.TIME_ZONE), both included; `ip` is one
    address, matched exactly."""

    mac: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    ip: str | None = None


NO_FILTERS = SessionFilters()


class UsageTotals(TypedDict):
    sessions: int
    seconds: int
    bytes_in: int
    bytes_out: int


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def subscribers_of(*, user: User) -> list[int]:
    """The ids of the subscribers the customer's sessions are attributed to."""
    return list(Subscriber.objects.filter(user_id=user.pk).order_by("id").values_list("id", flat=True))


def sessions_for(
    *,
    user: User,
    filters: SessionFilters = NO_FILTERS,
    subscribers: list[int] | None = None,
    noticeable: list[HeldScope] | None = None,
) -> QuerySet[NetworkSession]:
    """The customer's sessions matching `filters`, newest first, with their site;
    only those of `subscribers` (some of the customer's own) when given.

    Sessions past their retention are left out even before the daily sweep erases
    them, unless a hold the customer may be told of keeps them (`noticeable`: the
    scopes of those holds, looked up when not given). A session under a hold that
    forbids notice looks erased once past its retention. A session belongs to the
    local day it started on, as in the daily usage rollup."""
    if subscribers is None:
        subscribers = subscribers_of(user=user)
    sessions = NetworkSession.objects.filter(sessions_shown_q(noticeable=noticeable), subscriber_id__in=subscribers)
    if filters.mac:
        sessions = sessions.filter(mac=filters.mac)
    if filters.date_from:
        sessions = sessions.filter(started_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        sessions = sessions.filter(started_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    if filters.ip:
        sessions = sessions.filter(ip=filters.ip)
    return sessions.select_related("site").order_by("-started_at", "-id")


# --- Keyset pagination --------------------------------------------------------


class CursorError(ValueError):
    """A page cursor that this code did not make."""


def cursor_encode(session: NetworkSession) -> str:
    """An opaque position: the session's start and id."""
    raw = f"{session.started_at.astimezone(UTC).isoformat()}|{session.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """(started_at, id) from a cursor; CursorError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, _bar, id_text = raw.partition("|")
        moment = datetime.fromisoformat(moment_text)
        pk = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError(cursor) from None
    if moment.tzinfo is None or not 0 < pk <= _MAX_ID:
        raise CursorError(cursor)
    return moment, pk


@dataclass(frozen=True)
class SessionPage:
    """One page of sessions, newest first, and the cursors of its neighbours (None at an end)."""

    sessions: list[NetworkSession]
    newer: str | None
    older: str | None


def session_page(
    *,
    user: User,
    filters: SessionFilters = NO_FILTERS,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    noticeable: list[HeldScope] | None = None,
) -> SessionPage:
    """A page of the customer's sessions: the newest, or those just older than the
    cursor `after`, or those just newer than the cursor `before`.

    Keyset pagination: one query of size + 1 rows whatever the depth, no OFFSET and
    no COUNT; the extra row says whether there is a page beyond. The row comparison
    (started_at, id) < (t, n) is spelt out as `started_at < t OR (started_at = t AND
    id < n)`; next to it, the explicit `started_at <= t` is the index condition that
    starts the scan at the cursor and lets PostgreSQL skip the monthly partitions
    beyond it, so page 1,000 reads as few rows as page 1.
    Raises CursorError for a cursor this code did not make."""
    if after and before:
        raise CursorError(before)
    position = cursor_decode(before or after) if before or after else None
    # One index scan per subscriber (a customer whose email changed has several):
    # an IN list over several would make PostgreSQL sort all their rows instead.
    rows: list[NetworkSession] = []
    if noticeable is None:
        noticeable = held_scopes_noticeable()
    for subscriber in subscribers_of(user=user):
        sessions = sessions_for(user=user, filters=filters, subscribers=[subscriber], noticeable=noticeable)
        if before:
            moment, pk = position
            sessions = sessions.filter(
                Q(started_at__gt=moment) | Q(started_at=moment, id__gt=pk), started_at__gte=moment
            ).order_by("started_at", "id")
        elif after:
            moment, pk = position
            sessions = sessions.filter(
                Q(started_at__lt=moment) | Q(started_at=moment, id__lt=pk), started_at__lte=moment
            )
        rows.extend(sessions[: size + 1])
    rows.sort(key=lambda s: (s.started_at, s.pk), reverse=not before)
    has_more = len(rows) > size
    rows = rows[:size]
    if before:
        rows.reverse()
        newer, older = has_more, True
    else:
        newer, older = bool(after), has_more
    return SessionPage(
        sessions=rows,
        newer=cursor_encode(rows[0]) if newer and rows else None,
        older=cursor_encode(rows[-1]) if older and rows else None,
    )


# --- Totals -------------------------------------------------------------------


def usage_totals(*, user: User, filters: SessionFilters = NO_FILTERS) -> UsageTotals:
    """Number of sessions, seconds online and bytes in and out for the filter.

    Without an IP filter they come from the daily usage rollup (per customer, MAC
    address and local day, kept by ingest): a few hundred rows a year, however many
    sessions. The rollup does not know IP addresses, so with an IP filter they are
    summed from the matching sessions themselves, which reads every session of the
    customer in the date range."""
    if filters.ip:
        sums = (
            sessions_for(user=user, filters=filters)
            .order_by()
            .aggregate(
                sessions=Count("id"),
                duration=Sum(F("ended_at") - F("started_at")),
                bytes_in=Sum("bytes_in"),
                bytes_out=Sum("bytes_out"),
            )
        )
        duration = sums.pop("duration")
        sums["seconds"] = int(duration.total_seconds()) if duration else 0
    else:
        usage = DailyUsage.objects.filter(user_id=user.pk)  # the rollup is per account
        if filters.mac:
            usage = usage.filter(mac=filters.mac)
        if filters.date_from:
            usage = usage.filter(day__gte=filters.date_from)
        if filters.date_to:
            usage = usage.filter(day__lte=filters.date_to)
        sums = usage.aggregate(
            sessions=Sum("sessions"), seconds=Sum("seconds"), bytes_in=Sum("bytes_in"), bytes_out=Sum("bytes_out")
        )
    return UsageTotals(**{name: int(value or 0) for name, value in sums.items()})


# --- Export -------------------------------------------------------------------

#: The columns of a customer's sessions in their data export, in order, as SQL, but
#: the last, `erased_on`, which comes from `shown.erasure_text_sql` (its parameters
#: first).
SESSION_EXPORT_SELECT = (
    ("started", "s.started_at"),
    ("ended", "s.ended_at"),
    ("email_as_recorded", "sub.email"),
    ("mac", "s.mac"),
    ("ip", "host(s.ip)"),
    ("site", "site.name"),
    ("site_address", "site.address"),
    ("bytes_in", "s.bytes_in"),
    ("bytes_out", "s.bytes_out"),
)


SESSION_EXPORT_COLUMNS = (*(name for name, _expression in SESSION_EXPORT_SELECT), "erased_on")
#: Free text, which the CSV file protects from spreadsheets (`csv_cells`).
SESSION_EXPORT_TEXT = frozenset({"email_as_recorded", "site", "site_address"})


def sessions_export_query(*, user: User) -> BulkExport:
    """The customer's sessions as SQL for the data export, which streams it with COPY
    (PostgreSQL only): one query per address they were recorded under (subscriber),
    oldest address first, each oldest session first. A query per subscriber reads
    the (subscriber, started_at, id) index in order; one for all of them would sort
    every row. The one place the export reads sessions, so only this changes with
    the schema. Which sessions, and what `erased_on` says, come from `shown`, as on
    /logs/."""
    noticeable = held_scopes_noticeable()
    erased_on, erased_on_params = erasure_text_sql(alias="s", noticeable=noticeable)
    shown, shown_params = sessions_shown_sql(alias="s", noticeable=noticeable)
    source = (
        f"FROM {NetworkSession._meta.db_table} s "  # noqa: S608 - table names from the models
        f"JOIN {Site._meta.db_table} site ON site.id = s.site_id "
        f"JOIN {Subscriber._meta.db_table} sub ON sub.id = s.subscriber_id "
        f"WHERE s.subscriber_id = %s AND {shown} ORDER BY s.started_at, s.id"
    )
    return BulkExport(
        select=(*SESSION_EXPORT_SELECT, ("erased_on", erased_on)),
        text=SESSION_EXPORT_TEXT,
        source=source,
        parts=tuple((*erased_on_params, subscriber, *shown_params) for subscriber in subscribers_of(user=user)),
    )


# --- Usage charts -------------------------------------------------------------


def device_usage_for(*, user: User, first_month: date, first_day: date, last_day: date) -> list[dict]:
    """The customer's daily usage of their current devices from `first_month` to
    `last_day`, summed per device and month and, from `first_day` on, per day (`recent`,
    None before): one query whatever the number of devices, at most a row per device
    and month or recent day. Each row: mac, label and added (the device's), month,
    recent, seconds, bytes (in and out)."""
    devices = Device.objects.filter(user_id=OuterRef("user_id"), mac=OuterRef("mac"))
    return list(
        DailyUsage.objects.filter(user_id=user.pk, day__gte=min(first_month, first_day), day__lte=last_day)
        .filter(Exists(devices))
        .annotate(
            month=TruncMonth("day", output_field=DateField()),
            recent=Case(When(day__gte=first_day, then=F("day")), default=None, output_field=DateField()),
            label=Subquery(devices.values("label")[:1]),
            added=Subquery(devices.values("created_at")[:1]),
        )
        .values("mac", "label", "added", "month", "recent")
        .annotate(seconds=Sum("seconds"), bytes=Sum(F("bytes_in") + F("bytes_out")))
        .order_by()
    )
