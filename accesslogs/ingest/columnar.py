"""The columnar path: a CSV batch on PostgreSQL is first read and checked a segment at
a time with Arrow (C++, most of it outside the GIL), and each segment is handed to
COPY as CSV that Arrow writes: no Python per row, except for the few values not in
the usual form (IPv6 addresses, MAC addresses spelt with dots). Its checks accept
only what the row-by-row checker (`check`) accepts; a block with anything they do not
accept, or that PostgreSQL refuses, makes the batch start again on the row-by-row
path, which names each bad line. So the columnar path only ever makes a good batch
faster. pyarrow is imported on the first columnar batch, not with this module.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO

from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction

from devices.mac import mac_parse

from ..models import Collector
from .background import in_background
from .check import IPV4, SESSION_ID, Checker, ip_parse
from .read import FIELDS, Source
from .write import COLUMNS, Writer

#: pyarrow's modules, the columnar path's reader, imported by `_arrow()` when first needed.
pa = pc = pa_csv = None

#: Bytes of CSV Arrow reads at a time (a segment: one COPY statement), and rows it
#: checks and turns into COPY text at a time, in a thread, while COPY sends the last.
COLUMNAR_SEGMENT = 16 * 2**20
COLUMNAR_ROWS = 20_000

_CANONICAL_MAC = r"^[0-9A-F][02468ACE](:[0-9A-F]{2}){5}$"
_DIGITS = r"^[0-9]{1,18}$"


class _NotColumnar(Exception):
    """This batch needs the row-by-row path."""


def columnar_attempt(collector: Collector, source: Source) -> int | None:
    """Store a CSV batch through Arrow and return how many sessions it stored, or None
    (having stored nothing) when the batch has anything the row-by-row path should
    look at.

    Three things overlap: a thread reads the next segment and finds its MAC addresses
    and sites, the main thread looks up those it has not seen yet and runs the
    segment's COPY, and another thread checks and formats the rows that COPY sends."""
    if connection.vendor != "postgresql" or not _arrow():
        return None
    checker = Checker()
    writer = Writer(collector, skip_stored=False, checker=checker)
    try:
        with transaction.atomic():  # a savepoint: a refused segment leaves nothing behind
            for segment, keys in in_background(_segments(source())):
                owners = _owners(keys, writer)  # queries: before the COPY
                with writer.copying(csv=True) as copy:
                    for text in in_background(_copy_text(segment, owners, writer.collector.pk, checker)):
                        copy.write(text)
                writer.accepted += segment.num_rows
    except (_NotColumnar, pa.ArrowException, UnicodeDecodeError, DataError):
        return None
    writer.finish()
    return writer.accepted


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


def _segments(stream: IO[bytes]) -> Iterator[tuple]:
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
        mac = _values(pc.utf8_upper(pc.replace_substring(column["mac"], "-", ":")), _CANONICAL_MAC, _mac_text)
        places = pc.binary_join_element_wise(column["site"], column["site_address"], "\x1f")
        yield segment, {"mac": mac, "places": places, "macs": pc.unique(mac), "sites": pc.unique(places)}


def _owners(keys: dict, writer: Writer) -> dict:
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


def _copy_text(segment, owners: dict, collector_id: int, checker: Checker) -> Iterator[bytes]:
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
            pc.match_substring_regex(session_id, "^" + SESSION_ID.pattern + "$"),
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
                _values(column["ip"], "^" + IPV4.pattern + "$", ip_parse),
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


def _values(values, usual: str, parse: Callable[[str], str]):
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
