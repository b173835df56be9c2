"""Reading a batch: CSV and NDJSON records, each a line number and its values in FIELDS
order (or a message saying why the line cannot be read), and the Source a batch is
read from."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import IO

from django.utils.translation import gettext as _

FIELDS = ("session_id", "mac", "ip", "site", "site_address", "started_at", "ended_at", "bytes_in", "bytes_out")
FORMATS = {"text/csv": "csv", "application/x-ndjson": "ndjson"}

#: Opens the batch from its first byte; called again when a replay is read twice.
Source = Callable[[], IO[bytes]]


def rewinding(stream: IO[bytes]) -> Source:
    """A Source over a seekable stream that the caller opens and closes."""

    def source() -> IO[bytes]:
        stream.seek(0)
        return stream

    return source


def csv_records(stream: IO[bytes]) -> Iterator[tuple[int, list | str]]:
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


def ndjson_records(stream: IO[bytes]) -> Iterator[tuple[int, list | str]]:
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
