"""The retention sweep's lock through PgBouncer in transaction mode (the sweep itself
through PgBouncer: test_sweep.py's two sweeps at once, run both ways)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from accesslogs.models import NetworkSession
from accesslogs.retention import retention_cutoff
from cloudportal.months import month_add, month_start
from compliance.models import SweepRun
from portal.sweep import SWEEP_LOCK_KEY, sweep_lock
from portal.tests.test_sweep import _old_sessions

pytestmark = pytest.mark.django_db(transaction=True)


def _advisory_locks_held(server: dict) -> int:
    """The sweep's advisory locks held in the test database, asked of PostgreSQL
    itself (`server`, its settings), not through PgBouncer."""
    with psycopg.connect(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or 5432,
        dbname=server["NAME"],
        user=server["USER"] or "postgres",
    ) as direct:
        return direct.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database() "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
            [SWEEP_LOCK_KEY],
        ).fetchone()[0]


def test_a_second_sweep_through_pgbouncer_waits_for_the_first(through_pgbouncer, pgbouncers):
    """The first run holds the lock until it ends, whichever server connections its
    statements and the second run's land on; nothing is left locked afterwards."""
    first_in, first_may_end, second_in = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def run(entered, may_end=None):
        try:
            with sweep_lock():
                entered.set()
                connection.ensure_connection()  # the run's own work goes on beside the lock
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                if may_end is not None:
                    may_end.wait(20)
        except Exception as exc:  # noqa: BLE001 - the test reports any exception
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=(first_in, first_may_end))
    first.start()
    assert first_in.wait(10)
    assert _advisory_locks_held(pgbouncers.server) == 1
    second = threading.Thread(target=run, args=(second_in,))
    second.start()
    time.sleep(1.5)
    assert not second_in.is_set(), "the second sweep ran while the first held the lock"
    first_may_end.set()
    assert second_in.wait(10)
    first.join(10)
    second.join(10)
    assert errors == []
    assert _advisory_locks_held(pgbouncers.server) == 0


def test_two_sweep_processes_through_pgbouncer_erase_once(through_pgbouncer):
    """Two `run_job retention-sweep` processes at once, each with DATABASE_URL at
    PgBouncer and DATABASE_POOLER=pgbouncer, as an operator's cron and beat might:
    one drops the expired month, the other finds nothing left; both succeed."""
    cutoff = retention_cutoff(timezone.now())
    expired = month_add(month_start(cutoff.astimezone(UTC)), -1)
    _old_sessions(month_back=13, count=30, start=datetime(expired.year, expired.month, 2, tzinfo=UTC))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test",
        "DATABASE_URL": through_pgbouncer.url(connection.settings_dict["NAME"]),
        "DATABASE_POOLER": "pgbouncer",
    }
    command = [sys.executable, "manage.py", "run_job", "retention-sweep"]
    runs = [
        subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180)[0].decode(errors="replace") for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [run.counts["access_logs"] for run in SweepRun.objects.all()]
    assert sorted(c["partitions dropped"] for c in counts) == [0, 1]
    assert not NetworkSession.objects.filter(started_at__lt=cutoff).exists()
