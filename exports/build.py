"""The ZIP file of a customer's data, written from the privacy registry in bounded memory.

Files in the archive:
- `data.json`: every registry category, machine-readable: for each, its label, the
  column names and the records as arrays (one per record, in column order), and the
  record count;
- `<category>.csv`: the same records, one CSV file per category, for people;
- `README.txt`: what each category is, why it is held, on what legal basis, who
  handles it, how long it is kept;
- `manifest.json`: each file's size and SHA-256 (written last, of everything above).

A category with `export_bulk` (the access logs) is read once from PostgreSQL with
COPY, as CSV: each block of rows goes into its CSV file as it comes and is turned
into data.json's records by Arrow (`records.JsonRecords`) on a second thread, which
also compresses and hashes, while this one reads the next block. So a million
sessions never sit in the worker's memory, and the database reads them once. The
other categories come from `export(user)`.
"""

from __future__ import annotations

import csv
import io
import json
import select
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cloudportal.privacy import BulkExport, Category, categories

from .archive import FileRecord, Member, Spool, ZipWriter
from .records import JsonRecords

FORMAT = "cloudportal-export/1"
#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")
#: Bytes of COPY output handed on at a time (whole rows).
COPY_BLOCK = 512 * 1024
#: Blocks read ahead of the thread that writes them: bounds the memory.
BLOCKS_AHEAD = 2


@dataclass
class BuildReport:
    counts: dict[str, int] = field(default_factory=dict)
    files: list[FileRecord] = field(default_factory=list)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, default=_json_default, ensure_ascii=False)
    elif isinstance(value, datetime | date):
        return value.isoformat()
    elif not isinstance(value, str):
        return str(value)
    text = value
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _records_python(category: Category, user) -> tuple[tuple[str, ...], Iterator[dict]]:
    """The category's columns (keys of its first record) and all its records."""
    records = iter(category.export(user))
    first = next(records, None)
    if first is None:
        return (), iter(())
    return tuple(first), _chain_first(first, records)


def _chain_first(first: dict, rest: Iterator[dict]) -> Iterator[dict]:
    yield first
    yield from rest


def _csv_line(values: Iterable[str]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(values)
    return text.getvalue().encode()


class ExportWriter:
    """Writes one customer's archive. `on_category` is called after each category
    (for progress), with the number of records written so far."""

    def __init__(self, *, user, path: Path, on_category: Callable[[int, int], None] | None = None) -> None:
        self.user = user
        self.path = path
        self.on_category = on_category or (lambda done, records: None)
        self.bulk = connection.vendor == "postgresql"

    def write(self) -> BuildReport:
        """ZIP members are written one at a time, and data.json spans every
        category: it is compressed into a temporary file (in memory up to 8 MB,
        then on disk) while each CSV file goes straight into the archive, and
        copied in at the end."""
        report = BuildReport()
        chosen = categories()
        generated_at = timezone.now()
        with open(self.path, "wb") as file, Spool("data.json") as data_json:
            archive = ZipWriter(file, modified=timezone.localtime(generated_at))
            header = {
                "format": FORMAT,
                "generated_at": generated_at.isoformat(),
                "operator": settings.OPERATOR_NAME,
                "account_id": self.user.pk,
            }
            data_json.write(json.dumps(header, ensure_ascii=False)[:-1].encode() + b', "categories": {')
            written = 0
            for index, category in enumerate(chosen):
                csv_file = archive.open(f"{category.key}.csv")
                count = self._category_write(category, data_json, csv_file, first=index == 0)
                report.files.append(csv_file.close())
                report.counts[category.key] = count
                written += count
                self.on_category(index + 1, written)
            data_json.write(b"}}\n")
            report.files.insert(0, archive.add(data_json))
            readme = archive.open("README.txt")
            readme.write(self._readme(chosen, report.counts).encode())
            report.files.append(readme.close())
            manifest = {
                "format": FORMAT,
                "generated_at": header["generated_at"],
                "files": [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in report.files],
            }
            member = archive.open("manifest.json")
            member.write(json.dumps(manifest, indent=2).encode() + b"\n")
            member.close()
            archive.close()
        return report

    # --- One category ---------------------------------------------------------

    def _category_write(self, category: Category, data_json: Spool, csv_file: Member, *, first: bool) -> int:
        """Writes the category's CSV file and its part of data.json; returns its
        record count (written after the records, once known)."""
        bulk = category.export_bulk(self.user) if self.bulk and category.export_bulk is not None else None
        if bulk is not None:
            columns, records = bulk.columns, None
        else:
            columns, records = _records_python(category, self.user)
        head = {"label": str(category.label), "columns": list(columns)}
        data_json.write(
            ("" if first else ", ").encode()
            + f"{json.dumps(category.key)}: ".encode()
            + json.dumps(head, ensure_ascii=False)[:-1].encode()
            + b', "records": ['
        )
        if bulk is not None:
            count = self._bulk_write(bulk, csv_file, data_json)
        else:
            count = self._python_rows(columns, records, csv_file, data_json)
        data_json.write(f'], "count": {count}}}'.encode())
        return count

    def _python_rows(self, columns, records: Iterable[dict], csv_file: Member, json_rows: Spool) -> int:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        count = 0
        for record in records:
            values = [record.get(name) for name in columns]
            writer.writerow([_cell(v) for v in values])
            json_rows.write(
                (b",\n" if count else b"\n") + json.dumps(values, default=_json_default, ensure_ascii=False).encode()
            )
            count += 1
            if text.tell() > 256 * 1024:
                csv_file.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
        csv_file.write(text.getvalue().encode())
        return count

    def _bulk_write(self, bulk: BulkExport, csv_file: Member, data_json: Spool) -> int:
        """The CSV file and the data.json records of a bulk category from one read
        of the database: every part in one transaction (REPEATABLE READ, so all
        from one snapshot). This thread reads blocks of rows; a second one writes
        each to the CSV file and converts it for data.json, in order, at most
        BLOCKS_AHEAD behind. Returns the number of rows."""
        blocks = _BulkBlocks(JsonRecords(bulk), csv_file, data_json)
        blocks.csv_file.write(_csv_line(bulk.columns))
        pending: deque[Future] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export") as writer:
            outermost = not connection.in_atomic_block
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    if outermost:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("SET LOCAL jit = off")  # compiling the query costs more than it saves here
                    for sql, params in bulk.parts:
                        for block in _copy_out(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params):
                            if len(pending) >= BLOCKS_AHEAD:
                                pending.popleft().result()
                            pending.append(writer.submit(blocks.write, block))
                while pending:
                    pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()
        return blocks.rows

    # --- README ---------------------------------------------------------------

    def _readme(self, chosen: list[Category], counts: dict[str, int]) -> str:
        with translation.override(getattr(self.user, "language", None) or settings.LANGUAGE_CODE):
            return render_to_string(
                "exports/README.txt",
                {
                    "OPERATOR_NAME": settings.OPERATOR_NAME,
                    "generated_at": timezone.localtime(),
                    "items": [
                        {
                            "category": c,
                            "count": counts.get(c.key, 0),
                            "fields": ", ".join(str(f) for f in c.fields),
                            "processors": "; ".join(str(p) for p in c.processors),
                        }
                        for c in chosen
                    ],
                },
            )


class _BulkBlocks:
    """What the writing thread does with each block of CSV rows, in order."""

    def __init__(self, records: JsonRecords, csv_file: Member, data_json: Spool) -> None:
        self.records = records
        self.csv_file = csv_file
        self.data_json = data_json
        self.rows = 0

    def write(self, block: bytes) -> None:
        self.csv_file.write(block)
        text, rows = self.records.convert(block)
        if rows:
            self.data_json.write(b",\n" if self.rows else b"\n")
            self.data_json.write(text)
            self.rows += rows


def _copy_out(statement: str, params: tuple) -> Iterator[bytes]:
    """The output of `COPY ... TO STDOUT` in blocks of about COPY_BLOCK bytes, each
    ending at a row's end, on the current connection and transaction.

    Read with libpq's calls directly: the server sends a message per row, and
    psycopg's `Copy` costs about a microsecond more per message than this loop,
    about as much as compressing the row. A reader that stops early cancels the
    statement, so the connection is usable again (its transaction has failed)."""
    from psycopg import ClientCursor, pq

    connection.ensure_connection()
    with ClientCursor(connection.connection) as client:
        query = client.mogrify(statement, params)
    pgconn = connection.connection.pgconn
    pgconn.send_query(query.encode())
    while pgconn.flush():
        select.select([], [pgconn.socket], [])
    result = _result_next(pgconn)
    if result is None or result.status != pq.ExecStatus.COPY_OUT:
        _results_drain(pgconn)
        raise DatabaseError(_error_text(result))
    finished = False
    try:
        buffer = bytearray()
        while True:
            size, data = pgconn.get_copy_data(1)
            if size > 0:
                buffer += data
                if len(buffer) >= COPY_BLOCK:
                    yield bytes(buffer)
                    buffer.clear()
            elif size == 0:
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            else:
                break
        finished = True
        result = _result_next(pgconn)
        _results_drain(pgconn)
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            raise DatabaseError(_error_text(result))
        if buffer:
            yield bytes(buffer)
    finally:
        if not finished:
            pgconn.get_cancel().cancel()
            while pgconn.get_copy_data(0)[0] >= 0:
                pass
            _results_drain(pgconn)


def _result_next(pgconn):
    """The next result of the statement sent, waiting for it; None after the last."""
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()


def _results_drain(pgconn) -> None:
    while _result_next(pgconn) is not None:
        pass


def _error_text(result) -> str:
    if result is None:
        return "COPY returned no result"
    return (result.error_message or b"COPY failed").decode(errors="replace")
