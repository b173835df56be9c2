"""Monthly partitions of the sessions table on PostgreSQL.

Each month of `started_at` (UTC) lives in its own partition, named
`accesslogs_networksession_pYYYYMM`. Partitions are created ahead: by the initial
migration for the window around its run, then by the daily beat task and, for any
month a batch needs, by ingest itself. On SQLite the table is a plain table and
these functions do nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, transaction

from cloudportal.months import month_add, month_start

PARENT = "accesslogs_networksession"


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month:%Y%m}"


def is_partitioned(conn=connection) -> bool:
    return conn.vendor == "postgresql"


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def partition_create_sql(month: date) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(month_add(month, 1))}')"
    )


def partitions_window(today: date | None = None) -> list[date]:
    """The months that must exist: back to the retention limit, and some ahead."""
    this_month = month_start(today or datetime.now(UTC).date())
    behind = settings.ACCESS_LOG_RETENTION_MONTHS
    ahead = settings.ACCESS_LOG_PARTITIONS_AHEAD
    return [month_add(this_month, n) for n in range(-behind, ahead + 1)]


_known: set[date] = set()


def partitions_ensure(months, conn=connection) -> list[str]:
    """Create the partitions of the given months that do not exist yet; return their names.

    Cheap to call for every batch: months already seen by this process are skipped
    without a query."""
    if not is_partitioned(conn):
        return []
    wanted = sorted({month_start(m) for m in months} - _known)
    if not wanted:
        return []
    existing = set(partitions_existing(conn))
    created = []
    with conn.cursor() as cursor:
        for month in wanted:
            name = partition_name(month)
            if name not in existing:
                cursor.execute(partition_create_sql(month))
                created.append(name)
    # Remember them only once they are committed: a batch that rolls back takes its
    # new partitions with it.
    transaction.on_commit(lambda: _known.update(wanted), using=conn.alias)
    return created


def partitions_existing(conn=connection) -> list[str]:
    if not is_partitioned(conn):
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [PARENT],
        )
        return [row[0] for row in cursor.fetchall()]


def partitions_forget() -> None:
    """Forget which partitions this process has seen (after a sweep drops some)."""
    _known.clear()
