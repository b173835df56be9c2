"""The daily retention sweep (SPEC §6): every registry category past its retention.

Driven by the privacy registry: each category with an `expire` hook erases what is
past its own retention (sessions and their daily rollup, answered data requests,
...); nothing here lists categories. Runs are serialised by a PostgreSQL advisory
lock: a second sweep started at once waits for the first, then finds nothing left.
Each run is recorded as a SweepRun with its counts.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime

from django.db import connection
from django.utils import timezone

from accesslogs.holds import legal_holds_pin
from accesslogs.retention import retention_cutoff
from cloudportal.privacy import categories
from compliance.models import SweepRun
from compliance.services import legal_holds_expire

logger = logging.getLogger(__name__)

#: pg_advisory_lock key of the sweep ("retentio" in ASCII).
SWEEP_LOCK_KEY = 0x726574656E74696F


@contextmanager
def sweep_lock():
    """Hold the sweep's advisory lock for the block (waiting for another run to end).
    Session-level, so it spans the sweep's many transactions; PostgreSQL releases it
    if the worker dies."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SWEEP_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])


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
        run.counts = counts
        run.notices = counts.get("access_logs", {}).get("customers notified", 0)
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "notices", "finished_at"])
    logger.info("retention sweep %s done", run.pk)
    return run
