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
holds its MAC address at that moment (SPEC §3), through that account's current
subscriber (accesslogs.models.Subscriber), which carries the email it has then.
"""

from __future__ import annotations

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
from typing import IO, TYPE_CHECKING, NamedTuple

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.mac import MacError, mac_parse
from devices.models import Device

from .models import Collector, IngestBatch, NetworkSession, Site
from .partitions import months_between, partitions_ensure
from .retention import retention_cutoff
from .services import one_of, subscribers_current
from .tasks import usage_roll_up

if TYPE_CHECKING:
    from psycopg import Copy

#: pyarrow's modules, the columnar path's reader, imported by `_arrow()` when first needed.
pa = pc = pa_csv = None

FIELDS = ("session_id", "mac", "ip", "site", "site_address", "started_at", "ended_at", "bytes_in", "bytes_out")
FORMATS = {"text/csv": "csv", "application/x-ndjson": "ndjson"}
MAX_ERRORS = 100
CHUNK_ROWS = 20_000
ATTEMPTS = 3
MAX_BYTES = 2**63 - 1
#: How far in the future a session may start or end (clocks drift).
CLOCK_SKEW = timedelta(hours=1)

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_SESSION_ID = re.compile(r"[!-\[\]-~]{1,64}")

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


class Row(NamedTuple):
    """A checked session, fields named as the session's columns. A tuple (a batch holds
    millions of rows), built with positional arguments."""

    session_id: str
    mac: str  # canonical
    ip: str  # canonical
    site: tuple[str, str]  # name, address
    started_at: datetime
    ended_at: datetime
    #: The row's own part of its COPY line: session_id to bytes_out in COLUMNS order.
    copy_tail: str
    bytes_in: str  # digits
    bytes_out: str


# --- Reading ------------------------------------------------------------------


def _csv_records(stream: IO[bytes]) -> Iterator[tuple[int, list | str]]:
    """(line number, values in FIELDS order) pairs, or a message for a bad line."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
    try:
        yield from _csv_rows(text)
    except UnicodeDecodeError:
        yield 0, _("The batch is not UTF-8 text.")
    finally:
        text.detach()  # the stream is the caller's: a replay reads it again


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, list | str]]:
    reader = csv.reader(text)
    width, index = 0, None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield reader.line_num, _("This line cannot be read as CSV.")
            return
        if len(values) == width:
            yield reader.line_num, values if index is None else [values[i] for i in index]
        elif not width:  # the header
            header = [h.strip() for h in values]
            missing = [f for f in FIELDS if f not in header]
            if missing:
                yield reader.line_num, _("The header row lacks: %(fields)s.") % {"fields": ", ".join(missing)}
                return
            width = len(header)
            index = None if header == list(FIELDS) else [header.index(f) for f in FIELDS]
        elif values:
            message = _("This line has %(found)d fields; the header has %(expected)d.")
            yield reader.line_num, message % {"found": len(values), "expected": width}


def _ndjson_records(stream: IO[bytes]) -> Iterator[tuple[int, list | str]]:
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            record = None
        if not isinstance(record, dict):
            yield line, _("This line is not a JSON object.")
            continue
        yield line, [_text(record.get(name)) for name in FIELDS]


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "\x00"  # neither text nor a number: refused by every check
    return str(value)


# --- Checking -----------------------------------------------------------------


def _ip(value: str) -> str:
    """The address in its canonical text form; ValueError for anything else. Dotted
    IPv4 addresses, most of them, are checked without building an object."""
    if _IPV4.fullmatch(value):
        return value
    return _ip_parsed(value)


@lru_cache(maxsize=65536)
def _ip_parsed(value: str) -> str:
    return ipaddress.ip_address(value).compressed


class _Checker:
    """Turns records into rows, or into errors with a line and a field.

    `fast` handles the common case, a good row, with as little work as possible;
    anything it does not like goes through `slow`, which says what is wrong."""

    def __init__(self) -> None:
        now = timezone.now()
        self.oldest = retention_cutoff(now)
        self.latest = now + CLOCK_SKEW
        self.errors: list[dict] = []
        self.macs: dict[str, str] = {}
        self.bounds: dict[str, tuple[str, str]] = {}
        self.sites: set[tuple[str, str]] = set()
        self.fresh_macs: list[str] = []
        self.fresh_sites: list[tuple[str, str]] = []

    def error(self, line: int, name: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "field": name, "message": str(message)})

    def fast(self, values: list) -> Row | None:
        try:
            session_id, mac, ip, site, address, started, ended, bytes_in, bytes_out = values
            mac = self.macs.get(mac) or self._mac(mac)
            ip = _ip(ip)
            started_at = datetime.fromisoformat(started)
            ended_at = datetime.fromisoformat(ended)
            offset = started[19:]
            if len(started) == 25 and len(ended) == 25 and started[10] == "T" == ended[10] and ended[19:] == offset:
                # The usual form, one offset: text compares like time, and much faster.
                oldest, latest = self.bounds.get(offset) or self._bounds(started_at)
                in_order = oldest <= started[:19] <= ended[:19] <= latest
            else:
                in_order = self.oldest <= started_at <= ended_at <= self.latest
                started, ended = started_at.isoformat(), ended_at.isoformat()
            if (
                in_order
                and _SESSION_ID.fullmatch(session_id)
                and site
                and len(site) <= 200
                and len(address) <= 300
                and bytes_in.isascii()
                and bytes_in.isdigit()
                and bytes_out.isascii()
                and bytes_out.isdigit()
                and len(bytes_in) < 19
                and len(bytes_out) < 19
            ):
                tail = f"{session_id}\t{mac}\t{ip}\t{started}\t{ended}\t{bytes_in}\t{bytes_out}\n"
                place = (site, address)
                if place not in self.sites:
                    self._site(place)
                return Row(session_id, mac, ip, place, started_at, ended_at, tail, bytes_in, bytes_out)
        except (TypeError, ValueError, AttributeError, ValidationError):
            pass
        return None

    def _bounds(self, moment: datetime) -> tuple[str, str]:
        """The oldest and latest accepted moments, written in the offset of `moment`."""
        zone = moment.tzinfo
        if zone is None:
            raise ValueError("no offset")
        bounds = (self.oldest.astimezone(zone).isoformat()[:19], self.latest.astimezone(zone).isoformat()[:19])
        self.bounds[moment.isoformat()[19:]] = bounds
        return bounds

    def _mac(self, value: str) -> str:
        canonical = self.macs[value] = mac_parse(value).canonical
        self.fresh_macs.append(canonical)
        return canonical

    def _site(self, place: tuple[str, str]) -> None:
        self.sites.add(place)
        self.fresh_sites.append(place)

    def fresh(self) -> tuple[set[str], set[tuple[str, str]]]:
        """The MAC addresses and sites first seen since the last call."""
        macs, sites = set(self.fresh_macs), set(self.fresh_sites)
        self.fresh_macs, self.fresh_sites = [], []
        return macs, sites

    def slow(self, line: int, values: list | str) -> Row | None:
        """Check a row that `fast` refused: record each of its errors, or return it
        when it is good after all (spaces around values, very large numbers)."""
        if isinstance(values, str):
            self.error(line, "", values)
            return None
        record = {name: (value or "").strip() for name, value in zip(FIELDS, values, strict=True)}
        for name in FIELDS:
            if not record[name] and name != "site_address":
                self.error(line, name, _("This field is required."))
                return None
        errors_before = len(self.errors)
        if not _SESSION_ID.fullmatch(record["session_id"]):
            self.error(line, "session_id", _("Use 1 to 64 printable characters, without spaces or backslashes."))
        try:
            mac_parse(record["mac"])
        except MacError as exc:
            self.error(line, "mac", exc.messages[0])
        try:
            _ip(record["ip"])
        except ValueError:
            self.error(line, "ip", _("Not an IPv4 or IPv6 address."))
        if len(record["site"]) > 200:
            self.error(line, "site", _("At most 200 characters."))
        if len(record["site_address"]) > 300:
            self.error(line, "site_address", _("At most 300 characters."))
        started = self._moment(line, "started_at", record["started_at"])
        ended = self._moment(line, "ended_at", record["ended_at"])
        if started and ended:
            if ended < started:
                self.error(line, "ended_at", _("The session ends before it starts."))
            elif started < self.oldest:
                self.error(line, "started_at", _("Older than the retention period: such sessions are not kept."))
            elif ended > self.latest:
                self.error(line, "ended_at", _("In the future."))
        for name in ("bytes_in", "bytes_out"):
            value = record[name]
            if value.startswith("-") and value[1:].isdigit():
                self.error(line, name, _("Must be zero or more."))
            elif not (value.isascii() and value.isdigit()) or int(value) > MAX_BYTES:
                self.error(line, name, _("Must be a whole number of bytes."))
        if len(self.errors) > errors_before:
            return None
        site = (record["site"], record["site_address"])
        if site not in self.sites:
            self._site(site)
        mac, ip = self.macs.get(record["mac"]) or self._mac(record["mac"]), _ip(record["ip"])
        session_id, bytes_in, bytes_out = (
            record["session_id"],
            str(int(record["bytes_in"])),
            str(int(record["bytes_out"])),
        )
        tail = f"{session_id}\t{mac}\t{ip}\t{started.isoformat()}\t{ended.isoformat()}\t{bytes_in}\t{bytes_out}\n"
        return Row(session_id, mac, ip, site, started, ended, tail, bytes_in, bytes_out)

    def _moment(self, line: int, name: str, value: str) -> datetime | None:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            self.error(line, name, _("Not a date and time: use ISO 8601, e.g. 2026-03-01T09:30:00+01:00."))
            return None
        if moment.tzinfo is None:
            self.error(line, name, _("The date and time needs a UTC offset, e.g. +01:00 or Z."))
            return None
        return moment


#: What the parser hands over: rows, and the MAC addresses and sites first seen in them.
Chunk = tuple[list[Row], set[str], set[tuple[str, str]]]


def _parse_chunks(records: Iterator[tuple[int, list | str]], checker: _Checker) -> Iterator[Chunk]:
    chunk: list[Row] = []
    fast = checker.fast
    for line, values in records:
        row = None if isinstance(values, str) else fast(values)
        if row is None:
            row = checker.slow(line, values)
            if len(checker.errors) >= MAX_ERRORS:
                break
        if row is not None and not checker.errors:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield (chunk, *checker.fresh())
                chunk = []
    if chunk and not checker.errors:
        yield (chunk, *checker.fresh())


def _in_background(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
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

#: In this order, each COPY line is the owner's part, the site's part, then the row's
#: own part, which the parsing thread writes ahead of time.
COLUMNS = ("subscriber_id", "site_id", "collector_id", "session_id", "mac", "ip")
COLUMNS += ("started_at", "ended_at", "bytes_in", "bytes_out")
#: Rows are sent to PostgreSQL this many at a time, so that it works while we format.
COPY_GROUP = 1000


#: The subscriber of a session nobody holds the MAC address of.
NO_OWNER = "\\N\t"


class _Writer:
    """Resolves attribution and sites, writes rows, and records the stored batch."""

    def __init__(self, collector: Collector, *, skip_stored: bool, checker: _Checker) -> None:
        self.collector = collector
        self.checker = checker
        self.months = months_between(checker.oldest, checker.latest)
        self.skip_stored = skip_stored
        #: MAC -> the subscriber of the account holding it now, or None.
        self.subscribers: dict[str, int | None] = {}
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
        sites -= self.sites.keys()
        if sites:
            Site.objects.bulk_create([Site(name=n, address=a) for n, a in sites], ignore_conflicts=True)
            names = {n for n, _a in sites}
            for pk, name, address in Site.objects.filter(name__in=names).values_list("id", "name", "address"):
                self.sites[(name, address)] = pk
        # Rows start within the accepted window (see _Checker): make sure it all
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
        batch = IngestBatch.objects.create(
            collector=self.collector,
            after_id=self.after_id,
            last_id=_last_id_taken(after=self.after_id),
            started_from=self.checker.oldest,
            started_until=self.checker.latest,
            sessions=self.accepted,
        )
        usage_roll_up.delay_on_commit(batch.pk)


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


# --- The columnar path -----------------------------------------------------------
#
# A CSV batch is first read and checked a segment at a time with Arrow (C++, most of
# it outside the GIL), and each segment is handed to COPY as CSV that Arrow writes: no
# Python per row, except for the few values not in the usual form (IPv6 addresses,
# MAC addresses spelt with dots). Its checks accept only what the row-by-row path
# above accepts; a block with anything they do not accept, or that PostgreSQL
# refuses, makes the batch start again on the row-by-row path, which names each bad
# line. So the columnar path only ever makes a good batch faster.

#: Bytes of CSV Arrow reads at a time (a segment: one COPY statement), and rows it
#: checks and turns into COPY text at a time, in a thread, while COPY sends the last.
COLUMNAR_SEGMENT = 16 * 2**20
COLUMNAR_ROWS = 20_000

_CANONICAL_MAC = r"^[0-9A-F][02468ACE](:[0-9A-F]{2}){5}$"
_DIGITS = r"^[0-9]{1,18}$"


class _NotColumnar(Exception):
    """This batch needs the row-by-row path."""


def _columnar_attempt(collector: Collector, source: Source) -> IngestResult | None:
    """Store a CSV batch through Arrow, or None (having stored nothing) when the batch
    has anything the row-by-row path should look at.

    Three things overlap: a thread reads the next segment and finds its MAC addresses
    and sites, the main thread looks up those it has not seen yet and runs the
    segment's COPY, and another thread checks and formats the rows that COPY sends."""
    if connection.vendor != "postgresql" or not _arrow():
        return None
    checker = _Checker()
    writer = _Writer(collector, skip_stored=False, checker=checker)
    try:
        with transaction.atomic():  # a savepoint: a refused segment leaves nothing behind
            for segment, keys in _in_background(_columnar_segments(source())):
                owners = _columnar_owners(keys, writer)  # queries: before the COPY
                with writer.copying(csv=True) as copy:
                    for text in _in_background(_columnar_text(segment, owners, writer.collector.pk, checker)):
                        copy.write(text)
                writer.accepted += segment.num_rows
    except (_NotColumnar, pa.ArrowException, UnicodeDecodeError, DataError):
        return None
    writer.finish()
    return IngestResult(accepted=writer.accepted, duplicates=0)


def _arrow() -> bool:
    """Imports pyarrow on the first columnar batch, so that a process that never
    ingests (a web process, a worker building exports) does not carry it: about
    40 MB resident. False when it is not installed: every batch goes row by row."""
    global pa, pc, pa_csv  # noqa: PLW0603 - loaded once, on demand
    if pa is None:
        try:
            import pyarrow
            import pyarrow.compute
            import pyarrow.csv
        except ImportError:  # pragma: no cover
            return False
        pa, pc, pa_csv = pyarrow, pyarrow.compute, pyarrow.csv
    return True


def _columnar_segments(stream: IO[bytes]) -> Iterator[tuple]:
    """Each segment of the batch, with its canonical MAC addresses and its sites."""
    reader = pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(block_size=COLUMNAR_SEGMENT),
        convert_options=pa_csv.ConvertOptions(
            include_columns=list(FIELDS),
            column_types=dict.fromkeys(FIELDS, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    for segment in reader:
        if not segment.num_rows:
            continue
        column = dict(zip(segment.schema.names, segment.columns, strict=True))
        mac = _columnar_values(pc.utf8_upper(pc.replace_substring(column["mac"], "-", ":")), _CANONICAL_MAC, _mac_text)
        places = pc.binary_join_element_wise(column["site"], column["site_address"], "\x1f")
        yield segment, {"mac": mac, "places": places, "macs": pc.unique(mac), "sites": pc.unique(places)}


def _columnar_owners(keys: dict, writer: _Writer) -> dict:
    """The segment's canonical MAC addresses, and the subscriber and site id of each row."""
    mac_list = keys["macs"].to_pylist()
    place_list = [tuple(p.split("\x1f", 1)) for p in keys["sites"].to_pylist()]
    writer.resolve(set(mac_list), set(place_list))
    subscribers = pa.array([writer.subscribers[m] for m in mac_list], pa.int64())
    sites = pa.array([writer.sites[p] for p in place_list], pa.int64())
    return {
        "mac": keys["mac"],
        "subscriber_id": pc.take(subscribers, pc.index_in(keys["mac"], value_set=keys["macs"])),
        "site_id": pc.take(sites, pc.index_in(keys["places"], value_set=keys["sites"])),
    }


def _columnar_text(segment, owners: dict, collector_id: int, checker: _Checker) -> Iterator[bytes]:
    """The segment as COPY CSV in COLUMNS order, some rows at a time; _NotColumnar
    when a value is not surely good."""
    utc = pa.timestamp("us", tz="UTC")
    oldest, latest = pa.scalar(checker.oldest, utc), pa.scalar(checker.latest, utc)
    plain = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    quoted = pa_csv.WriteOptions(include_header=False)
    for offset in range(0, segment.num_rows, COLUMNAR_ROWS):
        part = segment.slice(offset, COLUMNAR_ROWS)
        column = dict(zip(part.schema.names, part.columns, strict=True))
        mac = owners["mac"].slice(offset, COLUMNAR_ROWS)
        session_id, site, address = column["session_id"], column["site"], column["site_address"]
        bytes_in, bytes_out = column["bytes_in"], column["bytes_out"]
        # Checked as times here; COPY is given the texts themselves (offsets and all),
        # which PostgreSQL reads as fast as anything Arrow would write.
        started, ended = pc.cast(column["started_at"], utc), pc.cast(column["ended_at"], utc)
        good = [
            pc.match_substring_regex(session_id, "^" + _SESSION_ID.pattern + "$"),
            pc.not_equal(mac, "00:00:00:00:00:00"),
            pc.greater(pc.utf8_length(site), 0),
            pc.less_equal(pc.utf8_length(site), 200),
            pc.less_equal(pc.utf8_length(address), 300),
            pc.equal(pc.utf8_trim_whitespace(site), site),
            pc.equal(pc.utf8_trim_whitespace(address), address),
            pc.greater_equal(started, oldest),
            pc.greater_equal(ended, started),
            pc.less_equal(ended, latest),
            pc.match_substring_regex(bytes_in, _DIGITS),
            pc.match_substring_regex(bytes_out, _DIGITS),
        ]
        if not all(pc.all(check).as_py() for check in good):
            raise _NotColumnar
        rows = pa.table(
            [
                owners["subscriber_id"].slice(offset, COLUMNAR_ROWS),
                owners["site_id"].slice(offset, COLUMNAR_ROWS),
                pa.repeat(pa.scalar(collector_id, pa.int64()), part.num_rows),
                session_id,
                mac,
                _columnar_values(column["ip"], "^" + _IPV4.pattern + "$", _ip),
                column["started_at"],
                column["ended_at"],
                bytes_in,
                bytes_out,
            ],
            names=list(COLUMNS),
        )
        out = io.BytesIO()
        try:  # without quotes, which COPY reads faster, unless a value has a comma or a quote
            pa_csv.write_csv(rows, out, plain)
        except pa.ArrowInvalid:
            out = io.BytesIO()
            pa_csv.write_csv(rows, out, quoted)
        yield out.getbuffer()


def _columnar_values(values, usual: str, parse: Callable[[str], str]):
    """`values` with those not matching the `usual` pattern put through `parse` (the
    row-by-row path's own parser); _NotColumnar when it refuses one."""
    unusual = pc.invert(pc.match_substring_regex(values, usual))
    if not pc.any(unusual).as_py():
        return values
    try:
        parsed = [parse(value) for value in pc.filter(values, unusual).to_pylist()]
    except (ValueError, ValidationError):
        raise _NotColumnar from None
    return pc.replace_with_mask(values, unusual, pa.array(parsed, pa.string()))


def _mac_text(value: str) -> str:
    return mac_parse(value).canonical


#: First key of the advisory lock a batch holds on its collector (the second is its id).
INGEST_LOCK = 0x5E55


def _attempt(collector: Collector, source: Source, fmt: str, *, skip_stored: bool) -> IngestResult:
    if connection.vendor == "postgresql":
        # Batches of one collector are written one at a time (see IngestBatch).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK, collector.pk])
    if fmt == "csv" and not skip_stored:
        result = _columnar_attempt(collector, source)
        if result is not None:
            return result
    checker = _Checker()
    writer = _Writer(collector, skip_stored=skip_stored, checker=checker)
    read = _csv_records if fmt == "csv" else _ndjson_records
    records = read(source())
    try:
        for chunk, macs, sites in _in_background(_parse_chunks(records, checker)):
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
