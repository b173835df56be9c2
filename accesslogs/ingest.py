"""Session ingest: the one code path behind POST /api/ingest/sessions and the
`ingest_sessions` command (SPEC §5).

A batch is read and checked row by row, then written with COPY (PostgreSQL) in
chunks, so memory stays bounded whatever its size. Parsing runs in a second thread
while the main thread writes the previous chunk: the database works while Python
parses. A batch is all-or-nothing: the first bad row stops the writing, the rest is
still checked so that the answer lists every bad line (up to MAX_ERRORS), and the
transaction rolls back.

Replays: the first attempt assumes the rows are new and copies straight into the
table. If the unique key (collector, session_id, started_at) says otherwise, the
batch starts again, this time skipping the rows already stored, and reports them
as duplicates. Each session is attributed when it is recorded: to the account that
holds its MAC address at that moment (SPEC §3), with that account's email.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import ipaddress
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import add_months
from devices.mac import MacError, mac_parse
from devices.models import Device

from .models import Collector, DailyUsage, NetworkSession, Site
from .partitions import partitions_ensure

FIELDS = ("session_id", "mac", "ip", "site", "site_address", "started_at", "ended_at", "bytes_in", "bytes_out")
FORMATS = {"text/csv": "csv", "application/x-ndjson": "ndjson"}
MAX_ERRORS = 100
CHUNK_ROWS = 20_000
ATTEMPTS = 3
MAX_BYTES = 2**63 - 1
#: How far in the future a session may start or end (clocks drift).
CLOCK_SKEW = timedelta(hours=1)

_SESSION_ID = re.compile(r"[!-~]{1,64}")
_DIGITS = re.compile(r"\d{1,19}")

#: Opens the batch from its first byte; called again when a replay is read twice.
Source = Callable[[], IO[bytes]]


def rewinding(stream: IO[bytes]) -> Source:
    """A Source over a seekable stream that the caller opens and closes."""

    def source() -> IO[bytes]:
        stream.seek(0)
        return stream

    return source


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int


@dataclass
class IngestError(Exception):
    """The batch was refused; nothing was stored. Each error names its line and field."""

    errors: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"line {e['line']}: {e['field']}: {e['message']}" for e in self.errors[:5])


@dataclass
class _Row:
    line: int
    session_id: str
    mac: str
    ip: str
    site: tuple[str, str]
    started_at: datetime
    ended_at: datetime
    bytes_in: int
    bytes_out: int


# --- Reading ------------------------------------------------------------------


def _csv_records(stream: IO[bytes]) -> Iterator[tuple[int, dict | str]]:
    """(line number, record) pairs; a record is a dict, or a message for a bad line."""
    text = codecs.getreader("utf-8")(stream, errors="strict")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error):
        yield 1, _("The header row cannot be read: send UTF-8 CSV.")
        return
    if header is None:
        return
    header = [h.strip() for h in header]
    missing = [f for f in FIELDS if f not in header]
    if missing:
        yield 1, _("The header row lacks: %(fields)s.") % {"fields": ", ".join(missing)}
        return
    index = [header.index(f) for f in FIELDS]
    width = len(header)
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error):
            yield reader.line_num or line + 1, _("This line cannot be read: send UTF-8 CSV.")
            return
        line = reader.line_num
        if not values:
            continue
        if len(values) != width:
            yield (
                line,
                _("This line has %(found)d fields; the header has %(expected)d.")
                % {
                    "found": len(values),
                    "expected": width,
                },
            )
            continue
        yield line, {name: values[i] for name, i in zip(FIELDS, index, strict=True)}


def _ndjson_records(stream: IO[bytes]) -> Iterator[tuple[int, dict | str]]:
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            yield line, _("This line is not a JSON object.")
            continue
        if not isinstance(record, dict):
            yield line, _("This line is not a JSON object.")
            continue
        yield line, record


# --- Checking -----------------------------------------------------------------


@lru_cache(maxsize=65536)
def _ip(value: str) -> str:
    return ipaddress.ip_address(value).compressed


def _text(record: dict, name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


class _Checker:
    """Turns records into rows, or into errors with a line and a field."""

    def __init__(self) -> None:
        now = timezone.now()
        self.oldest = add_months(now, -settings.ACCESS_LOG_RETENTION_MONTHS)
        self.latest = now + CLOCK_SKEW
        self.errors: list[dict] = []

    def error(self, line: int, name: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "field": name, "message": str(message)})

    def _moment(self, line: int, name: str, value: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(line, name, _("Not a date and time: use ISO 8601, e.g. 2026-03-01T09:30:00+01:00."))
            return None
        if moment.tzinfo is None:
            self.error(line, name, _("The date and time needs a UTC offset, e.g. +01:00 or Z."))
            return None
        return moment

    def _count(self, line: int, name: str, value: str) -> int | None:
        if value.startswith("-") and _DIGITS.fullmatch(value[1:]):
            self.error(line, name, _("Must be zero or more."))
            return None
        if not _DIGITS.fullmatch(value) or int(value) > MAX_BYTES:
            self.error(line, name, _("Must be a whole number of bytes."))
            return None
        return int(value)

    def row(self, line: int, record: dict | str) -> _Row | None:
        if isinstance(record, str):
            self.error(line, "", record)
            return None
        values = {}
        for name in FIELDS:
            value = _text(record, name)
            if value is None or (value == "" and name != "site_address"):
                self.error(line, name, _("This field is required."))
                return None
            values[name] = value
        errors_before = len(self.errors)
        if not _SESSION_ID.fullmatch(values["session_id"]):
            self.error(line, "session_id", _("Use 1 to 64 printable characters without spaces."))
        try:
            mac = mac_parse(values["mac"]).canonical
        except MacError as exc:
            self.error(line, "mac", exc.messages[0])
        try:
            ip = _ip(values["ip"])
        except ValueError:
            self.error(line, "ip", _("Not an IPv4 or IPv6 address."))
        if len(values["site"]) > Site._meta.get_field("name").max_length:
            self.error(line, "site", _("At most 200 characters."))
        if len(values["site_address"]) > Site._meta.get_field("address").max_length:
            self.error(line, "site_address", _("At most 300 characters."))
        started = self._moment(line, "started_at", values["started_at"])
        ended = self._moment(line, "ended_at", values["ended_at"])
        if started and ended:
            if ended < started:
                self.error(line, "ended_at", _("The session ends before it starts."))
            elif started < self.oldest:
                self.error(line, "started_at", _("Older than the retention period: such sessions are not kept."))
            elif ended > self.latest:
                self.error(line, "ended_at", _("In the future."))
        bytes_in = self._count(line, "bytes_in", values["bytes_in"])
        bytes_out = self._count(line, "bytes_out", values["bytes_out"])
        if len(self.errors) > errors_before:
            return None
        return _Row(
            line, values["session_id"], mac, ip, (values["site"], values["site_address"]), started, ended, bytes_in,
            bytes_out,
        )  # fmt: skip


def _parse_chunks(records: Iterator[tuple[int, dict | str]], checker: _Checker) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for line, record in records:
        row = checker.row(line, record)
        if row is not None and not checker.errors:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        elif len(checker.errors) >= MAX_ERRORS:
            break
    if chunk and not checker.errors:
        yield chunk


def _in_background(chunks: Iterator[list[_Row]]) -> Iterator[list[_Row]]:
    """Run the parser one chunk ahead in a thread; re-raise its exceptions here."""
    pipe: queue.Queue = queue.Queue(maxsize=2)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                pipe.put(chunk)
            pipe.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consuming thread
            pipe.put(exc)

    worker = threading.Thread(target=produce, name="ingest-parser", daemon=True)
    worker.start()
    try:
        while True:
            item = pipe.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                pipe.get(timeout=0.1)
        worker.join()


# --- Writing ------------------------------------------------------------------

COLUMNS = ("collector_id", "session_id", "user_id", "email", "mac", "ip", "site_id")
COLUMNS += ("started_at", "ended_at", "bytes_in", "bytes_out")


NULL = "\\N"


def _copy_escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class _Writer:
    """Resolves attribution and sites, writes rows, and keeps the daily usage sums."""

    def __init__(self, collector: Collector, *, skip_stored: bool) -> None:
        self.collector = collector
        self.skip_stored = skip_stored
        self.owners: dict[str, tuple[int, str] | None] = {}
        self.sites: dict[tuple[str, str], int] = {}
        self.usage: dict[tuple[int, str, object], list[int]] = {}
        self.last_seen: dict[str, datetime] = {}
        self.seen: set[tuple[str, datetime]] = set()
        self.accepted = 0
        self.duplicates = 0
        self.zone = ZoneInfo(settings.TIME_ZONE)

    def _resolve(self, chunk: list[_Row]) -> None:
        macs = {r.mac for r in chunk} - self.owners.keys()
        if macs:
            self.owners.update(dict.fromkeys(macs))
            for mac, user_id, email in Device.objects.filter(mac__in=macs).values_list("mac", "user_id", "user__email"):
                self.owners[mac] = (user_id, email)
        sites = {r.site for r in chunk} - self.sites.keys()
        if sites:
            Site.objects.bulk_create([Site(name=n, address=a) for n, a in sites], ignore_conflicts=True)
            names = {n for n, _a in sites}
            for pk, name, address in Site.objects.filter(name__in=names).values_list("id", "name", "address"):
                self.sites[(name, address)] = pk
        partitions_ensure({r.started_at for r in chunk})

    def _stored(self, chunk: list[_Row]) -> set[tuple[str, datetime]]:
        stored = NetworkSession.objects.filter(
            collector=self.collector,
            session_id__in={r.session_id for r in chunk},
            started_at__gte=min(r.started_at for r in chunk),
            started_at__lte=max(r.started_at for r in chunk),
        ).values_list("session_id", "started_at")
        return set(stored)

    def _keep(self, chunk: list[_Row]) -> list[_Row]:
        """In a replay, leave out the rows already stored or repeated in the batch."""
        if not self.skip_stored:
            return chunk
        stored = self._stored(chunk)
        kept = []
        for row in chunk:
            key = (row.session_id, row.started_at)
            if key in stored or key in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(key)
            kept.append(row)
        return kept

    def write(self, chunk: list[_Row]) -> None:
        self._resolve(chunk)
        chunk = self._keep(chunk)
        if not chunk:
            return
        if connection.vendor == "postgresql":
            self._copy(chunk)
        else:
            NetworkSession.objects.bulk_create(
                [NetworkSession(**dict(zip(COLUMNS, values, strict=True))) for values in self._values(chunk)]
            )
        self.accepted += len(chunk)

    def _values(self, chunk: list[_Row]) -> Iterator[tuple]:
        collector_id = self.collector.pk
        owners, sites, usage, last_seen, zone = self.owners, self.sites, self.usage, self.last_seen, self.zone
        for r in chunk:
            owner = owners[r.mac]
            if owner is None:
                user_id, email = None, ""
            else:
                user_id, email = owner
                seconds = int((r.ended_at - r.started_at).total_seconds())
                key = (user_id, r.mac, r.started_at.astimezone(zone).date())
                sums = usage.get(key)
                if sums is None:
                    usage[key] = [1, seconds, r.bytes_in, r.bytes_out]
                else:
                    sums[0] += 1
                    sums[1] += seconds
                    sums[2] += r.bytes_in
                    sums[3] += r.bytes_out
                if r.mac not in last_seen or last_seen[r.mac] < r.ended_at:
                    last_seen[r.mac] = r.ended_at
            yield (
                collector_id, r.session_id, user_id, email, r.mac, r.ip, sites[r.site], r.started_at, r.ended_at,
                r.bytes_in, r.bytes_out,
            )  # fmt: skip

    def _copy(self, chunk: list[_Row]) -> None:
        buffer = io.StringIO()
        for values in self._values(chunk):
            c, sid, uid, email, mac, ip, site, start, end, bin_, bout = values
            uid = NULL if uid is None else uid
            buffer.write(
                f"{c}\t{_copy_escape(sid)}\t{uid}\t{_copy_escape(email)}\t{mac}\t{ip}\t"
                f"{site}\t{start.isoformat()}\t{end.isoformat()}\t{bin_}\t{bout}\n"
            )
        sql = f"COPY {NetworkSession._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.connection.cursor().copy(sql) as copy,
        ):
            copy.write(buffer.getvalue())

    def finish(self) -> None:
        """Add this batch's sums to the daily usage, and move each device's last seen."""
        if self.usage:
            _usage_add(self.usage)
        if self.last_seen:
            _last_seen_move(self.last_seen)
        Collector.objects.filter(pk=self.collector.pk).update(last_used_at=timezone.now())


def _last_seen_move(last_seen: dict[str, datetime]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Device._meta.db_table} AS d SET last_seen_at = v.seen "  # noqa: S608 - table name from the model
                "FROM unnest(%s::varchar[], %s::timestamptz[]) AS v(mac, seen) "
                "WHERE d.mac = v.mac AND (d.last_seen_at IS NULL OR d.last_seen_at < v.seen)",
                [list(last_seen), list(last_seen.values())],
            )
        return
    for mac, seen in last_seen.items():  # the embedded SQLite run: few devices
        Device.objects.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen), mac=mac).update(
            last_seen_at=seen
        )


def _usage_add(usage: dict[tuple[int, str, object], list[int]]) -> None:
    table = DailyUsage._meta.db_table
    rows = [(*key, *sums) for key, sums in usage.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            part = rows[start : start + 2000]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} AS u (user_id, mac, day, sessions, seconds, bytes_in, bytes_out) "  # noqa: S608
                f"VALUES {placeholders} ON CONFLICT (user_id, mac, day) DO UPDATE SET "
                "sessions = u.sessions + excluded.sessions, seconds = u.seconds + excluded.seconds, "
                "bytes_in = u.bytes_in + excluded.bytes_in, bytes_out = u.bytes_out + excluded.bytes_out",
                [value for row in part for value in row],
            )


def _attempt(collector: Collector, source: Source, fmt: str, *, skip_stored: bool) -> IngestResult:
    checker = _Checker()
    writer = _Writer(collector, skip_stored=skip_stored)
    read = _csv_records if fmt == "csv" else _ndjson_records
    for chunk in _in_background(_parse_chunks(read(source()), checker)):
        writer.write(chunk)
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
