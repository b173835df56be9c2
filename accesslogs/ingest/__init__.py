"""Session ingest: the one code path behind POST /api/ingest/sessions and the
`ingest_sessions` command (SPEC §5). This module runs a batch; its parts:

- `read`: CSV and NDJSON records, and the Source a batch is read from;
- `check`: each record checked into a Row, or into errors naming its line and field;
- `write`: subscribers and sites looked up, rows written with COPY, the batch recorded;
- `columnar`: the faster path for CSV on PostgreSQL, through Arrow;
- `background`: an iterator run one item ahead in a thread.

A batch is read and checked row by row, then written with COPY (PostgreSQL) in
chunks, so memory stays bounded whatever its size. Parsing runs in a second thread
while the main thread writes the previous chunk: the database works while Python
parses. A batch is all-or-nothing: the first bad row stops the writing, the rest is
still checked so that the answer lists every bad line (up to check.MAX_ERRORS), and
the transaction rolls back. A CSV batch on PostgreSQL first goes down the columnar
path, which stores the same rows faster and leaves the batch to the row-by-row path
when anything in it is unusual.

Replays: the first attempt assumes the rows are new and copies straight into the
table. If the unique key (collector, session_id, started_at) says otherwise, the
batch starts again, this time skipping the rows already stored, and reports them
as duplicates. Each session is attributed when it is recorded: to the account that
holds its MAC address at that moment (SPEC §3), through that account's current
subscriber (accesslogs.models.Subscriber), which carries the email it has then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from ..models import Collector
from .background import in_background
from .check import Checker, parse_chunks
from .columnar import columnar_attempt
from .read import FIELDS, FORMATS, Source, csv_records, ndjson_records, rewinding
from .write import COLUMNS, Writer

__all__ = [
    "COLUMNS",
    "FIELDS",
    "FORMATS",
    "IngestError",
    "IngestResult",
    "Source",
    "rewinding",
    "sessions_ingest",
]

ATTEMPTS = 3


@dataclass(frozen=True)
class IngestResult:
    """How many sessions of the batch were stored, and how many were there already."""

    accepted: int
    duplicates: int


@dataclass
class IngestError(Exception):
    """The batch was refused; nothing was stored. Each error names its line and field."""

    errors: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"line {e['line']}: {e['field']}: {e['message']}" for e in self.errors[:5])


#: First key of the advisory lock a batch holds on its collector (the second is its id).
INGEST_LOCK = 0x5E55


def _attempt(collector: Collector, source: Source, fmt: str, *, skip_stored: bool) -> IngestResult:
    if connection.vendor == "postgresql":
        # Batches of one collector are written one at a time (see IngestBatch).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK, collector.pk])
    if fmt == "csv" and not skip_stored:
        accepted = columnar_attempt(collector, source)
        if accepted is not None:
            return IngestResult(accepted=accepted, duplicates=0)
    checker = Checker()
    writer = Writer(collector, skip_stored=skip_stored, checker=checker)
    read = csv_records if fmt == "csv" else ndjson_records
    records = read(source())
    try:
        for chunk, macs, sites in in_background(parse_chunks(records, checker)):
            writer.write(chunk, macs, sites)
    finally:
        records.close()  # hands the stream back, also when a bad row stopped the reading
    if checker.errors:
        raise IngestError(checker.errors)
    writer.finish()
    return IngestResult(accepted=writer.accepted, duplicates=writer.duplicates)


def sessions_ingest(*, collector: Collector, source: Source, fmt: str) -> IngestResult:
    """Store one batch of sessions, all or nothing.

    `source` opens the batch afresh each time it is called (a replay is read twice);
    `fmt` is "csv" or "ndjson". Raises IngestError, having stored nothing, when any
    row is bad."""
    if fmt not in FORMATS.values():
        raise ValueError(f"unknown format {fmt!r}")
    skip_stored = False
    for _attempt_number in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _attempt(collector, source, fmt, skip_stored=skip_stored)
        except IntegrityError:
            # Some rows were stored already (a replay), or a parallel batch of the same
            # collector stored them meanwhile: read again, skipping what is there.
            skip_stored = True
    raise IngestError([{"line": 0, "field": "", "message": _("The batch kept colliding with another; send it again.")}])
