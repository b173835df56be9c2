"""Lookups: what they may ask for, and the one statement that runs them.

A lookup is an IP address at an instant or in a window, a MAC address in a date
range, or an account's email as sessions recorded it (whatever the account's email
is now) in a date range. A session matches when it was in progress at some moment
of the window (it ended at or after the window's start and started at or before its
end), the rule legal holds use (accesslogs/holds.py), so the hold placed on approval
keeps what matched. Only sessions within their retention are searched: what the
sweep would erase is not there to disclose.

Windows are bounded: AUTHORITY_IP_WINDOW_MAX_DAYS for an IP address (an address
names a subscriber only at a given time), AUTHORITY_LOOKUP_MAX_DAYS for a MAC
address or an account.

Index strategy (accesslogs/migrations/0005_lookup_indexes.py): b-trees on (ip,
ended_at, started_at) and (mac, ended_at, started_at) on the partitioned table.
`started_at <= end` prunes the monthly partitions after the window; in each
partition left, the scan starts at `ended_at >= start`, so in the partitions before
the window it reads only sessions still running in it, and in the window's own
months the sessions from its start on; `started_at <= end` is checked on the index
entry, so only matching rows are fetched. An index on (ip, started_at) would read
every session of the address from the retention limit up to the window instead.
Accounts go through the existing (subscriber_id, started_at, id) index, after the
subscribers with that email (an index on UPPER(email)).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accesslogs.models import NetworkSession, Site, Subscriber
from accesslogs.retention import retention_cutoff
from devices.mac import mac_parse

from .models import Lookup, LookupMatch


@dataclass(frozen=True)
class LookupValues:
    kind: str
    ip: str | None
    mac: str
    email: str
    starts_at: datetime
    ends_at: datetime


def _max_days(kind: str) -> int:
    if kind == Lookup.Kind.IP:
        return settings.AUTHORITY_IP_WINDOW_MAX_DAYS
    return settings.AUTHORITY_LOOKUP_MAX_DAYS


def lookup_check(
    *, kind: str, value: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime | None = None
) -> LookupValues:
    """The lookup in canonical form, or a ValidationError by field ("value",
    "starts_at", "ends_at") saying what is wrong."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    ip, mac, email = None, "", ""
    value = (value or "").strip()
    if kind == Lookup.Kind.IP:
        try:
            ip = ipaddress.ip_address(value).compressed
        except ValueError:
            errors["value"] = [_("“%(value)s” is not an IPv4 or IPv6 address.") % {"value": value[:60]}]
    elif kind == Lookup.Kind.MAC:
        try:
            mac = mac_parse(value).canonical
        except ValidationError as exc:
            errors["value"] = exc.messages
    elif kind == Lookup.Kind.ACCOUNT:
        try:
            validate_email(value)
            email = value
        except ValidationError:
            errors["value"] = [_("Give the account's email address, e.g. name@example.com.")]
    else:
        raise ValidationError({"kind": _("Choose what to look up.")})
    if starts_at is None:
        errors["starts_at"] = [_("Give the start of the window.")]
    if ends_at is None:
        errors["ends_at"] = [_("Give the end of the window.")]
    if starts_at and ends_at:
        errors.update(_window_errors(kind, starts_at, ends_at, now))
    if errors:
        raise ValidationError(errors)
    return LookupValues(kind=kind, ip=ip, mac=mac, email=email, starts_at=starts_at, ends_at=ends_at)


def _window_errors(kind: str, starts_at: datetime, ends_at: datetime, now: datetime) -> dict[str, list[str]]:
    if ends_at < starts_at:
        return {"ends_at": [_("The end of the window must come after its start.")]}
    if starts_at > now:
        return {"starts_at": [_("The window starts in the future: no session has been recorded then yet.")]}
    days = _max_days(kind)
    if ends_at - starts_at > timedelta(days=days):
        message = ngettext(
            "A lookup of this kind covers at most %(days)s day: narrow the window (it is %(length)s days now).",
            "A lookup of this kind covers at most %(days)s days: narrow the window (it is %(length)s days now).",
            days,
        ) % {"days": days, "length": round((ends_at - starts_at) / timedelta(days=1), 1)}
        return {"ends_at": [message]}
    cutoff = retention_cutoff(now)
    if ends_at < cutoff:
        shown = formats.date_format(timezone.localtime(cutoff), "DATETIME_FORMAT")
        return {
            "ends_at": [
                _("Sessions that started before %(date)s are past their retention and erased: none can match.")
                % {"date": shown}
            ]
        }
    return {}


def _where(lookup: Lookup) -> tuple[str, list]:
    """The lookup's own condition on the sessions table `s`."""
    if lookup.kind == Lookup.Kind.IP:
        cast = "::inet" if connection.vendor == "postgresql" else ""
        return f"s.ip = %s{cast}", [lookup.ip]
    if lookup.kind == Lookup.Kind.MAC:
        return "s.mac = %s", [lookup.mac]
    subscribers = f"SELECT id FROM {Subscriber._meta.db_table} WHERE UPPER(email) = UPPER(%s)"  # noqa: S608
    return f"s.subscriber_id IN ({subscribers})", [lookup.email]


#: The columns a match copies, in the order of the SELECT below.
MATCH_COLUMNS = (
    "lookup_id",
    "session_pk",
    "session_id",
    "started_at",
    "ended_at",
    "mac",
    "ip",
    "site",
    "site_address",
    "bytes_in",
    "bytes_out",
    "account_id",
    "account_ref",
    "subscriber_ref",
    "email",
)


def lookup_sql(lookup: Lookup, *, now: datetime | None = None) -> tuple[str, list]:
    """The SELECT of the sessions `lookup` matches, as MATCH_COLUMNS, with the account
    each was attributed to when it was recorded (its subscriber), never whoever
    holds the address now."""
    where, params = _where(lookup)
    sql = (
        "SELECT %s, s.id, s.session_id, s.started_at, s.ended_at, s.mac, s.ip, site.name, site.address, "  # noqa: S608
        "s.bytes_in, s.bytes_out, sub.user_id, sub.user_id, s.subscriber_id, COALESCE(sub.email, '') "
        f"FROM {NetworkSession._meta.db_table} s "
        f"JOIN {Site._meta.db_table} site ON site.id = s.site_id "
        f"LEFT JOIN {Subscriber._meta.db_table} sub ON sub.id = s.subscriber_id "
        f"WHERE {where} AND s.ended_at >= %s AND s.started_at <= %s AND s.started_at >= %s"
    )
    return sql, [lookup.pk, *params, lookup.starts_at, lookup.ends_at, retention_cutoff(now)]


def lookup_matches_store(*, lookup: Lookup, now: datetime | None = None) -> tuple[int, int]:
    """Copy the sessions the lookup matches into its matches, in one INSERT … SELECT
    (the rows never pass through Python); (sessions, accounts) matched."""
    select, params = lookup_sql(lookup, now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {LookupMatch._meta.db_table} ({', '.join(MATCH_COLUMNS)}) {select}", params)
        sessions = cursor.rowcount
    accounts = (
        LookupMatch.objects.filter(lookup=lookup, account_ref__isnull=False).values("account_ref").distinct().count()
    )
    return sessions, accounts
