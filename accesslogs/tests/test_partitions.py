"""Monthly partitions of the sessions table (PostgreSQL)."""

import pytest
from django.db import connection

from accesslogs import partitions
from accesslogs.partitions import partition_name, partitions_existing, partitions_window
from accesslogs.sweep import sessions_sweep

pytestmark = pytest.mark.django_db


def test_the_table_is_partitioned_by_month_with_the_window_created():
    existing = set(partitions_existing())
    window = partitions_window()
    assert {partition_name(m) for m in window} <= existing
    assert len(window) == 12 + 3 + 1  # a year back, this month, three ahead
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'accesslogs_networksession'")
        assert cursor.fetchone()[0] == "p"


def _later_months_dropped() -> None:
    """Drop (in the test's transaction, rolled back after it) the partitions past the
    window: a transactional test that ingested sessions dated later leaves theirs in a
    reused test database."""
    last = partition_name(partitions_window()[-1])
    with connection.cursor() as cursor:
        for name in partitions_existing():
            if name > last:
                cursor.execute(f'DROP TABLE "{name}"')  # noqa: S608 - our own partition names


def test_the_daily_sweep_creates_months_ahead_and_can_run_twice(settings):
    _later_months_dropped()
    settings.ACCESS_LOG_PARTITIONS_AHEAD = 6
    partitions.partitions_forget()
    created = sessions_sweep().partitions_created
    last = partition_name(partitions_window()[-1])
    assert last in created
    partitions.partitions_forget()
    assert sessions_sweep().partitions_created == []
    assert last in partitions_existing()
