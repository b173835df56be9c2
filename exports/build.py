"""The ZIP file of a customer's data, written from the privacy registry in bounded memory.

Files in the archive:
- `data.json`: every registry category, machine-readable: for each, its label, the
  column names and the records as arrays (one per record, in column order), and the
  record count;
- `<category>.csv`: the same records, one CSV file per category, for people;
- `README.txt`: what each category is, why it is held, on what legal basis, who
  handles it, how long it is kept;
- `manifest.json`: each file's size and SHA-256 (written last, of everything above).

A category with `export_bulk` (the access logs) is streamed from PostgreSQL with
COPY, as CSV and, at the same time from the same snapshot, as JSON arrays built by
the database, so a million sessions never sit in the worker's memory; the others
come from `export(user)`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cloudportal.privacy import BulkExport, Category, categories

FORMAT = "cloudportal-export/1"
#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")
#: Deflate level 1: several times faster than the default, a little larger.
COMPRESS_LEVEL = 1
#: Bytes of COPY output handed on at a time.
COPY_BLOCK = 1024 * 1024


@dataclass
class FileRecord:
    name: str
    size: int = 0
    sha256: str = ""


@dataclass
class BuildReport:
    counts: dict[str, int] = field(default_factory=dict)
    files: list[FileRecord] = field(default_factory=list)


def _member_open(archive: zipfile.ZipFile, name: str):
    info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile.open() gives a ZipInfo of its own making the archive's level, but one
    # passed in keeps the default (6), four times slower on a million sessions.
    info._compresslevel = COMPRESS_LEVEL
    return archive.open(info, "w", force_zip64=True)


class _HashingWriter:
    """Writes to a member of the ZIP file (or a temporary file), keeping its size
    and SHA-256."""

    def __init__(self, target, name: str, *, owns: bool = True) -> None:
        self.record = FileRecord(name=name)
        self._digest = hashlib.sha256()
        self._member = target
        self._owns = owns

    def write(self, data: bytes) -> None:
        if data:
            self._digest.update(data)
            self.record.size += len(data)
            self._member.write(data)

    def close(self) -> FileRecord:
        if self._owns:
            self._member.close()
        self.record.sha256 = self._digest.hexdigest()
        return self.record


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
        category: it is written to a temporary file (in memory up to 8 MB, then on
        disk) while each CSV file goes straight into the archive, and copied in at
        the end."""
        report = BuildReport()
        chosen = categories()
        with (
            zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf,
            tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool,
        ):
            data_json = _HashingWriter(spool, "data.json", owns=False)
            header = {
                "format": FORMAT,
                "generated_at": timezone.now().isoformat(),
                "operator": settings.OPERATOR_NAME,
                "account_id": self.user.pk,
            }
            data_json.write(json.dumps(header, ensure_ascii=False)[:-1].encode() + b', "categories": {')
            written = 0
            for index, category in enumerate(chosen):
                csv_file = _HashingWriter(_member_open(zf, f"{category.key}.csv"), f"{category.key}.csv")
                count = self._category_write(category, data_json, csv_file, first=index == 0)
                report.files.append(csv_file.close())
                report.counts[category.key] = count
                written += count
                self.on_category(index + 1, written)
            data_json.write(b"}}\n")
            report.files.insert(0, data_json.close())
            spool.seek(0)
            with _member_open(zf, "data.json") as member:
                while chunk := spool.read(1024 * 1024):
                    member.write(chunk)
            readme = _HashingWriter(_member_open(zf, "README.txt"), "README.txt")
            readme.write(self._readme(chosen, report.counts).encode())
            report.files.append(readme.close())
            manifest = {
                "format": FORMAT,
                "generated_at": header["generated_at"],
                "files": [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in report.files],
            }
            with _member_open(zf, "manifest.json") as member:
                member.write(json.dumps(manifest, indent=2).encode() + b"\n")
        return report

    # --- One category ---------------------------------------------------------

    def _category_write(
        self, category: Category, data_json: _HashingWriter, csv_file: _HashingWriter, *, first: bool
    ) -> int:
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

    def _python_rows(self, columns, records: Iterable[dict], csv_file: _HashingWriter, json_rows) -> int:
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

    def _bulk_write(self, bulk: BulkExport, csv_file: _HashingWriter, data_json: _HashingWriter) -> int:
        """The CSV file and the data.json records of a bulk category, from one
        snapshot of the database, so both hold the same rows whatever is written
        meanwhile. The JSON pass runs at the same time on a connection of its own
        (a thread: the database does most of the work, and psycopg and zlib release
        the GIL while they wait or compress), importing this connection's snapshot.
        Inside a transaction that has already read (tests), both run in it, one
        after the other. Returns the number of rows."""
        if connection.in_atomic_block:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
                count = self._bulk_csv(bulk, csv_file)
                self._bulk_json(bulk, data_json)
            return count
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # Compiling the query to machine code costs more than it saves here.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SELECT pg_export_snapshot()")
            [snapshot] = cursor.fetchone()
            failures: list[BaseException] = []
            json_pass = threading.Thread(
                target=self._bulk_json_elsewhere, args=(bulk, data_json, snapshot, failures), daemon=True
            )
            json_pass.start()
            try:
                count = self._bulk_csv(bulk, csv_file)
            finally:
                json_pass.join()
            if failures:
                raise failures[0]
        return count

    def _bulk_json_elsewhere(self, bulk: BulkExport, out, snapshot: str, failures: list[BaseException]) -> None:
        """`_bulk_json` on this thread's own connection, in the given snapshot."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                cursor.execute("SET LOCAL jit = off")
                self._bulk_json(bulk, out)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which raises it
            failures.append(error)
        finally:
            connection.close()

    def _copy(self, statement: str, params: tuple) -> Iterator[bytes]:
        """COPY's output in blocks of about 1 MB: psycopg hands it over a row at a
        time, and a compressor and hash fed a row at a time would cost more than
        the database does."""
        buffer = bytearray()
        with connection.cursor() as cursor, cursor.cursor.copy(statement, params or None) as copy:
            for chunk in copy:
                buffer += chunk
                if len(buffer) >= COPY_BLOCK:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)

    def _bulk_csv(self, bulk: BulkExport, out: _HashingWriter) -> int:
        """COPY … TO STDOUT as CSV with a header; returns the number of rows."""
        newlines = 0
        statement = f"COPY ({bulk.sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
        for chunk in self._copy(statement, bulk.params):
            newlines += chunk.count(b"\n")
            out.write(chunk)
        return max(0, newlines - 1)

    def _bulk_json(self, bulk: BulkExport, out) -> None:
        """One JSON array a row, built by PostgreSQL and copied out as raw lines: CSV
        format with a delimiter and quote that JSON text never holds (it escapes
        control characters), so nothing is quoted. Rows are joined with commas as
        they stream; the last two bytes are held back so the final comma is dropped."""
        columns = ", ".join(f"t.{name}" for name in bulk.columns)
        statement = (
            f"COPY (SELECT json_build_array({columns})::text FROM ({bulk.sql}) AS t) "  # noqa: S608 - the registry's SQL
            "TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
        )
        held = b"\n"
        for chunk in self._copy(statement, bulk.params):
            data = held + chunk.replace(b"\n", b",\n")
            out.write(data[:-2])
            held = data[-2:]
        out.write(held.removesuffix(b",\n") + b"\n" if held.endswith(b",\n") else b"")

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
