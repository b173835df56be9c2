"""Erasing sessions past their retention (SPEC §2, §6), whatever their number.

On PostgreSQL the sessions table is partitioned by month of `started_at` (UTC), so
the sweep's cost follows the number of months, not of rows:

1. every partition whose whole month is past the retention cutoff is detached; the
   few sessions under legal hold in it are copied back into the table, where they
   land in the DEFAULT partition (`accesslogs_networksession_held`, made when first
   needed: no monthly partition covers that month any more); the detached partition
   is dropped. One short transaction per month. The DEFAULT partition only ever holds
   months before the partitions' window; should ACCESS_LOG_RETENTION_MONTHS grow,
   held rows of a month the window takes back must be moved out of it before that
   month's partition can be made again.
2. In the month on the boundary, and in the DEFAULT partition (held sessions whose
   hold has ended), sessions past the cutoff and not held are deleted in batches of
   ACCESS_LOG_SWEEP_BATCH rows, one transaction each, so no transaction grows with the rows.

On SQLite (embedded) the same rows are deleted in batches through the ORM.

The daily usage rollup of days past retention goes too, and each customer whose
sessions went is told how many, once per sweep (`daily_usage_expire`): the counts come
from the rollup, never from the erased rows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from cloudportal.faults import fault_pause
from cloudportal.months import month_add, month_start

from .holds import HeldScope, held_scopes, sessions_held_q, sessions_held_sql
from .models import DailyUsage, NetworkSession, Subscriber
from .notices import boundary_day, daily_usage_expire
from .partitions import (
    PARENT,
    is_partitioned,
    partition_name,
    partitions_ensure,
    partitions_existing,
    partitions_forget,
    partitions_window,
)
from .retention import retention_cutoff

logger = logging.getLogger(__name__)

#: Where held sessions of dropped months live: the table's DEFAULT partition.
HELD_PARTITION = f"{PARENT}_held"
_MONTHLY = re.compile(rf"^{PARENT}_p(\d{{4}})(\d{{2}})$")


@dataclass
class SessionSweep:
    """What one sweep did to the sessions table."""

    cutoff: datetime
    partitions_dropped: list[str] = field(default_factory=list)
    #: Rows in the dropped partitions, from PostgreSQL's statistics (not counted:
    #: counting would read every row the drop is meant not to read).
    dropped_rows_estimate: int = 0
    deleted: int = 0
    held_moved: int = 0
    partitions_created: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "partitions dropped": len(self.partitions_dropped),
            "sessions in dropped partitions (estimate)": self.dropped_rows_estimate,
            "sessions deleted": self.deleted,
            "held sessions kept": self.held_moved,
            "partitions created": len(self.partitions_created),
        }


def partitions_expired(*, cutoff: datetime) -> list[str]:
    """Monthly partitions whose whole month started before the cutoff."""
    boundary = month_start(cutoff.astimezone(UTC))
    names = []
    for name in partitions_existing():
        match = _MONTHLY.match(name)
        if match and (int(match[1]), int(match[2])) < (boundary.year, boundary.month):
            names.append(name)
    return names


def sessions_sweep(*, now: datetime | None = None) -> SessionSweep:
    """Erase every session that started before the retention cutoff and is not held,
    then make sure the coming months' partitions exist. Idempotent: a second run
    finds nothing left to erase. The caller serialises runs (portal.sweep).

    The sessions erased of the local day the cutoff falls on are added to that day's
    `DailyUsage.erased` in the transaction that erases them (the customer's notice
    counts them: see `notices`); those of earlier days are counted from the rollup."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    scopes = held_scopes(now=now)
    result = SessionSweep(cutoff=cutoff)
    if is_partitioned():
        _partitions_drop(result, scopes)
        boundary = partition_name(month_start(cutoff.astimezone(UTC)))
        existing = set(partitions_existing())
        for table in (boundary, HELD_PARTITION):
            if table in existing:
                result.deleted += _batched_delete(table=table, cutoff=cutoff, scopes=scopes)
        partitions_forget()
        result.partitions_created = partitions_ensure(partitions_window(now.astimezone(UTC).date()))
    else:
        expired = NetworkSession.objects.filter(started_at__lt=cutoff).exclude(sessions_held_q(scopes=scopes))
        while batch := list(expired.values_list("pk", flat=True)[: settings.ACCESS_LOG_SWEEP_BATCH]):
            with transaction.atomic():
                _erased_count(NetworkSession.objects.filter(pk__in=batch), cutoff=cutoff)
                result.deleted += NetworkSession.objects.filter(pk__in=batch).delete()[0]
    return result


def _erased_count(sessions, *, cutoff: datetime) -> None:
    """(SQLite) Add to `DailyUsage.erased` those of `sessions`, about to be deleted,
    that started on the day the cutoff falls on."""
    day, midnight = boundary_day(cutoff)
    counted = (
        sessions.filter(started_at__gte=midnight, subscriber__user__isnull=False)
        .values("subscriber__user_id", "mac")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in counted:
        DailyUsage.objects.filter(user_id=row["subscriber__user_id"], mac=row["mac"], day=day).update(
            erased=F("erased") + row["n"]
        )


#: Adds the rows of `{rows}` (a query of sessions with subscriber_id, mac, started_at)
#: that started on the cutoff's day to that day's `erased`.
_ERASED_ADD = (
    "UPDATE {usage} u SET erased = u.erased + c.n FROM ("
    "SELECT sub.user_id, r.mac, count(*) AS n FROM ({rows}) r JOIN {subscribers} sub ON sub.id = r.subscriber_id "
    "WHERE r.started_at >= %s AND sub.user_id IS NOT NULL GROUP BY 1, 2"
    ") c WHERE u.user_id = c.user_id AND u.mac = c.mac AND u.day = %s"
)
_TABLES = {"usage": DailyUsage._meta.db_table, "subscribers": Subscriber._meta.db_table}


def _partitions_drop(result: SessionSweep, scopes: list[HeldScope]) -> None:
    held_sql, held_params = sessions_held_sql(scopes=scopes)
    day, midnight = boundary_day(result.cutoff)
    for name in partitions_expired(cutoff=result.cutoff):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [name])
            estimate = max(0, cursor.fetchone()[0])
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {name}")
            if scopes:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {HELD_PARTITION} PARTITION OF {PARENT} DEFAULT")
                move = f"INSERT INTO {PARENT} SELECT * FROM {name} WHERE {held_sql}"  # noqa: S608 - names are ours, values are parameters
                cursor.execute(move, held_params)
                result.held_moved += cursor.rowcount
            if _month_end(name) > midnight:
                # The first hours of the cutoff's local day, in the month before its
                # own (a zone ahead of UTC): a few hours of rows, found by the BRIN index.
                rows = (
                    f"SELECT subscriber_id, mac, started_at FROM {name} "  # noqa: S608
                    f"WHERE started_at >= %s AND {held_sql} IS NOT TRUE"
                )
                cursor.execute(_ERASED_ADD.format(rows=rows, **_TABLES), [midnight, *held_params, midnight, day])
            fault_pause("sweep.partition_detached")
            cursor.execute(f"DROP TABLE {name}")
        result.partitions_dropped.append(name)
        result.dropped_rows_estimate += estimate
        logger.info("retention sweep dropped partition %s", name)


def _month_end(name: str) -> datetime:
    match = _MONTHLY.match(name)
    end = month_add(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC).date(), 1)
    return datetime(end.year, end.month, end.day, tzinfo=UTC)


def _batched_delete(*, table: str, cutoff: datetime, scopes: list[HeldScope]) -> int:
    """Delete what started before the cutoff and is not held, ACCESS_LOG_SWEEP_BATCH rows a
    transaction, counting in the same statement those of the cutoff's local day.
    `IS NOT TRUE`: a session whose scope column is NULL is not held."""
    held_sql, held_params = sessions_held_sql(scopes=scopes)
    day, midnight = boundary_day(cutoff)
    # Table names are ours; values are parameters.
    select = f"SELECT ctid FROM {table} WHERE started_at < %s AND {held_sql} IS NOT TRUE LIMIT %s"  # noqa: S608
    statement = (
        f"WITH gone AS (DELETE FROM {table} WHERE ctid = ANY(ARRAY({select})) "  # noqa: S608
        "RETURNING subscriber_id, mac, started_at), "
        f"counted AS ({_ERASED_ADD.format(rows='SELECT * FROM gone', **_TABLES)}) "
        "SELECT count(*) FROM gone"
    )
    deleted = 0
    batch = settings.ACCESS_LOG_SWEEP_BATCH
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [cutoff, *held_params, batch, midnight, day])
            rows = cursor.fetchone()[0]
            deleted += rows
        if rows < batch:
            return deleted
        fault_pause("sweep.batch_deleted")


def access_logs_expire(now: datetime) -> dict[str, int]:
    """The access logs' expiry hook in the privacy registry (see portal.sweep)."""
    swept = sessions_sweep(now=now)
    counts = swept.counts()
    counts.update(daily_usage_expire(cutoff=swept.cutoff, now=now))
    return counts
