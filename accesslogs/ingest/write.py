"""Writing: the subscribers and sites of the rows looked up (sites created), the rows
written with COPY (bulk_create on SQLite), and the stored batch recorded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from cloudportal.broker import queue_on_commit
from cloudportal.faults import fault_pause
from cloudportal.fragments import customers_changed_on_commit
from cloudportal.months import months_between
from cloudportal.sql import one_of
from devices.models import Device

from ..models import Collector, IngestBatch, NetworkSession, Site
from ..partitions import partitions_ensure
from ..services import subscribers_current
from ..tasks import batch_roll_up
from .check import Checker, Row

if TYPE_CHECKING:
    from psycopg import Copy

#: In this order, each COPY line is the owner's part, the site's part, then the row's
#: own part, which the parsing thread writes ahead of time.
COLUMNS = ("subscriber_id", "site_id", "collector_id", "session_id", "mac", "ip")
COLUMNS += ("started_at", "ended_at", "bytes_in", "bytes_out")
#: Rows are sent to PostgreSQL this many at a time, so that it works while we format.
COPY_GROUP = 1000


#: The subscriber of a session nobody holds the MAC address of.
NO_OWNER = "\\N\t"


class Writer:
    """Resolves attribution and sites, writes rows (or opens the COPY the columnar path
    writes to), and records the stored batch."""

    def __init__(self, collector: Collector, *, skip_stored: bool, checker: Checker) -> None:
        self.collector = collector
        self.checker = checker
        self.months = months_between(checker.oldest, checker.latest)
        self.skip_stored = skip_stored
        #: MAC -> the subscriber of the account holding it now, or None.
        self.subscribers: dict[str, int | None] = {}
        #: The accounts the batch's sessions are attributed to.
        self.customers: set[int] = set()
        self.sites: dict[tuple[str, str], int] = {}
        self.seen: set[tuple[str, datetime]] = set()
        self.accepted = 0
        self.duplicates = 0
        self.after_id = _last_id_taken()

    def resolve(self, macs: set[str], sites: set[tuple[str, str]]) -> None:
        """Look up the subscribers of `macs` and the ids of `sites` (creating those that
        are new) not looked up yet, into `subscribers` and `sites`."""
        macs -= self.subscribers.keys()
        if macs:
            self.subscribers.update(dict.fromkeys(macs))
            devices = Device.objects.filter(one_of(f"{Device._meta.db_table}.mac", macs))
            held = list(devices.values_list("mac", "user_id", "user__email"))
            current = subscribers_current({(user_id, email) for _mac, user_id, email in held})
            for mac, user_id, email in held:
                self.subscribers[mac] = current[(user_id, email)]
                self.customers.add(user_id)
        sites -= self.sites.keys()
        if sites:
            Site.objects.bulk_create([Site(name=n, address=a) for n, a in sites], ignore_conflicts=True)
            names = {n for n, _a in sites}
            for pk, name, address in Site.objects.filter(name__in=names).values_list("id", "name", "address"):
                self.sites[(name, address)] = pk
        # Rows start within the accepted window (see Checker): make sure it all
        # exists, once a batch.
        if self.months:
            partitions_ensure(self.months)
            self.months = []

    def _keep(self, chunk: list[Row]) -> list[Row]:
        """In a replay, leave out the rows already stored or repeated in the batch."""
        if not self.skip_stored:
            return chunk
        stored = set(
            NetworkSession.objects.filter(
                collector=self.collector,
                session_id__in={r.session_id for r in chunk},
                started_at__gte=min(r.started_at for r in chunk),
                started_at__lte=max(r.started_at for r in chunk),
            ).values_list("session_id", "started_at")
        )
        kept = []
        for row in chunk:
            key = (row.session_id, row.started_at)
            if key in stored or key in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(key)
            kept.append(row)
        return kept

    def write(self, chunk: list[Row], macs: set[str], sites: set[tuple[str, str]]) -> None:
        self.resolve(macs, sites)
        chunk = self._keep(chunk)
        if not chunk:
            return
        if connection.vendor == "postgresql":
            self._copy(chunk)
        else:
            self._insert(chunk)
        self.accepted += len(chunk)

    @contextlib.contextmanager
    def copying(self, *, csv: bool = False) -> Iterator[Copy]:
        """A COPY into the sessions table, each line in COLUMNS order: PostgreSQL's text
        format, or CSV. Database errors come out as Django's (DataError, ...)."""
        sql = f"COPY {NetworkSession._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
        if csv:
            sql += " WITH (FORMAT csv)"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.connection.cursor().copy(sql) as copy,
        ):
            yield copy

    def _copy(self, chunk: list[Row]) -> None:
        owners = {mac: f"{pk}\t" for mac, pk in self.subscribers.items() if pk is not None}
        sites = {key: f"{pk}\t{self.collector.pk}\t" for key, pk in self.sites.items()}
        with self.copying() as copy:
            for start in range(0, len(chunk), COPY_GROUP):
                group = chunk[start : start + COPY_GROUP]
                copy.write("".join([owners.get(r.mac, NO_OWNER) + sites[r.site] + r.copy_tail for r in group]))

    def _insert(self, chunk: list[Row]) -> None:
        """The embedded SQLite run has no COPY."""
        subscribers, sites = self.subscribers, self.sites
        NetworkSession.objects.bulk_create(
            NetworkSession(
                collector=self.collector,
                session_id=row.session_id,
                subscriber_id=subscribers[row.mac],
                mac=row.mac,
                ip=row.ip,
                site_id=sites[row.site],
                started_at=row.started_at,
                ended_at=row.ended_at,
                bytes_in=row.bytes_in,
                bytes_out=row.bytes_out,
            )  # fmt: skip
            for row in chunk
        )

    def finish(self) -> None:
        """Record the stored batch; its daily usage and last seen follow once it commits."""
        Collector.objects.filter(pk=self.collector.pk).update(last_used_at=timezone.now())
        if not self.accepted:
            return
        fault_pause("ingest.rows_written")
        batch = IngestBatch.objects.create(
            collector=self.collector,
            after_id=self.after_id,
            last_id=_last_id_taken(after=self.after_id),
            started_from=self.checker.oldest,
            started_until=self.checker.latest,
            sessions=self.accepted,
        )
        queue_on_commit(batch_roll_up, batch.pk)
        # Their pages (/logs/) show the new sessions once the batch commits.
        customers_changed_on_commit(self.customers)


def _last_id_taken(*, after: int | None = None) -> int:
    """The highest session id this connection has taken (PostgreSQL: from the sequence,
    which hands out ids in order; the batch's rows are above the first value taken)."""
    table = NetworkSession._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - one writer at a time
        elif after is None:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        else:
            cursor.execute("SELECT currval(pg_get_serial_sequence(%s, 'id'))", [table])
        return cursor.fetchone()[0]
