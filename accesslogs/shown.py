"""What a customer is shown about each of their sessions: the one place (SPEC §3, One
truth for each record).

A session is shown while it is within its retention (`retention.retention_cutoff`),
or past it while a hold the customer may be told of keeps it. For each session shown,
the customer reads the day it will be erased (`retention.erase_on`), or "held" when
such a hold keeps it. A hold the customer may not be told of changes neither: past
its retention, a session it keeps looks erased; within it, it shows its usual day.

Every reader asks here: /logs/ and its CSV, "What we hold", the data export (its
Python rows, and the SQL its COPY runs), so they cannot disagree. `noticeable` is the
scopes of the holds the customer may be told of (`holds.held_scopes_noticeable()`),
looked up once per request and passed along.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db.models import Q

from .holds import HeldScope, held_scopes_noticeable, session_is_held, sessions_held_q, sessions_held_sql
from .retention import erase_on, retention_cutoff

#: What the CSV files and data.json say instead of an erase date.
HELD = "held"


def _scopes(noticeable: list[HeldScope] | None) -> list[HeldScope]:
    return held_scopes_noticeable() if noticeable is None else noticeable


def sessions_shown_q(*, noticeable: list[HeldScope] | None = None, now: datetime | None = None) -> Q:
    """The sessions a customer is shown (of any customer: combine with their own)."""
    noticeable = _scopes(noticeable)
    shown = Q(started_at__gte=retention_cutoff(now))
    if noticeable:
        shown |= sessions_held_q(scopes=noticeable)
    return shown


def sessions_shown_sql(
    *, alias: str, noticeable: list[HeldScope] | None = None, now: datetime | None = None
) -> tuple[str, list]:
    """`sessions_shown_q` as SQL, with its parameters."""
    held, params = sessions_held_sql(scopes=_scopes(noticeable), alias=alias)
    return f"({alias}.started_at >= %s OR {held} IS TRUE)", [retention_cutoff(now), *params]


def erasure_shown(session, noticeable: list[HeldScope]) -> date | None:
    """The day the customer is told the session is erased, or None: "held"."""
    if noticeable and session_is_held(session, noticeable):
        return None
    return erase_on(session.started_at)


def erasure_text(session, noticeable: list[HeldScope]) -> str:
    """`erasure_shown` for a file: the day in ISO 8601, or "held"."""
    day = erasure_shown(session, noticeable)
    return HELD if day is None else day.isoformat()


#: `retention.erase_on` in SQL: the start plus the retention months, counted in UTC
#: as `add_months` does, as a local date (parameters: months, zone).
_ERASE_ON_SQL = (
    "(((({alias}.started_at AT TIME ZONE 'UTC') + make_interval(months => %s)) AT TIME ZONE 'UTC') "
    "AT TIME ZONE %s)::date"
)


def erasure_text_sql(*, alias: str, noticeable: list[HeldScope] | None = None) -> tuple[str, list]:
    """`erasure_text` as an SQL expression (text), with its parameters."""
    held, params = sessions_held_sql(scopes=_scopes(noticeable), alias=alias)
    day = _ERASE_ON_SQL.format(alias=alias)
    months, zone = settings.ACCESS_LOG_RETENTION_MONTHS, settings.TIME_ZONE
    if held == "FALSE":
        return f"to_char({day}, 'YYYY-MM-DD')", [months, zone]
    return (
        f"CASE WHEN {held} IS TRUE THEN '{HELD}' ELSE to_char({day}, 'YYYY-MM-DD') END",
        [*params, months, zone],
    )
