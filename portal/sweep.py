"""The daily retention sweep (SPEC §6): every registry category past its retention.

Driven by the privacy registry: each category with an `expire` hook erases what is
past its own retention (sessions and their daily rollup, answered data requests,
...); nothing here lists categories. Runs are serialised by a PostgreSQL advisory
lock held for the whole run (`sweep_lock`, which also works through PgBouncer in
transaction mode): a second sweep started at once waits for the first, then finds
nothing left.
Each run is recorded as a SweepRun with its counts.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from accesslogs.holds import legal_holds_pin
from accesslogs.retention import retention_cutoff
from cloudportal.fragments import everyone_changed
from cloudportal.privacy import categories
from compliance.models import SweepRun
from compliance.services import legal_holds_expire

logger = logging.getLogger(__name__)

#: Advisory lock key of the sweep ("retentio" in ASCII).
SWEEP_LOCK_KEY = 0x726574656E74696F
#: Seconds between two tries for the lock while another run holds it (growing to the last).
SWEEP_LOCK_WAITS = (0.1, 0.2, 0.5, 1.0, 2.0)


@contextmanager
def sweep_lock():
    """Hold the sweep's lock for the block, waiting for another run to end.

    The sweep runs many transactions (a partition detached in one, dropped in the
    next, batched deletes), and the lock must cover them all. It is a transaction
    lock (`pg_advisory_xact_lock`) taken on a second connection of its own, whose
    transaction stays open for the whole run and takes nothing else (no row, no
    snapshot kept: it holds back no vacuum). Through PgBouncer in transaction mode an
    open transaction keeps its server connection, so the lock is held exactly as long
    as the run; a session lock there would stay on a server connection that other
    clients get next (who would then hold it too), and its unlock could land on
    another one. If the worker dies, its connection closes and PostgreSQL ends the
    transaction, and the lock with it.

    Waiting is done by trying (`pg_try_advisory_xact_lock`) and sleeping between
    tries with no transaction open, so that a waiting run never holds one of the
    pool's server connections that the running one needs."""
    if connection.vendor != "postgresql":
        yield
        return
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        holder.set_autocommit(False)
        waits = iter(SWEEP_LOCK_WAITS)
        wait = next(waits)
        while True:
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
                if cursor.fetchone()[0]:
                    break
            holder.rollback()  # gives the server connection back while waiting
            time.sleep(wait)
            wait = next(waits, wait)
        yield
    finally:
        try:
            holder.rollback()  # ends the transaction, and the lock with it
        finally:
            holder.close()


def retention_sweep(*, now: datetime | None = None) -> SweepRun:
    """Erase everything past its retention at `now`; return the run's record."""
    with sweep_lock():
        now = now or timezone.now()
        run = SweepRun.objects.create(started_at=timezone.now(), cutoff=retention_cutoff(now))
        legal_holds_pin()
        counts: dict[str, dict[str, int]] = {"legal_holds": {"expired": legal_holds_expire(now=now)}}
        for category in categories():
            if category.expire is not None:
                counts[category.key] = category.expire(now)
        everyone_changed()  # rows erased in bulk: the customers' cached page parts go
        run.counts = counts
        run.notices = counts.get("access_logs", {}).get("customers notified", 0)
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "notices", "finished_at"])
    logger.info("retention sweep %s done", run.pk)
    return run
