"""The ZIP file of a customer's data, written from the privacy registry in bounded memory.

Files in the archive:
- `data.json`: every registry category, machine-readable: for each, its label, the
  column names and the records as arrays (one per record, in column order), and the
  record count;
- `<category>.csv`: the same records, one CSV file per category, for people;
- `README.txt`: what each category is, why it is held, on what legal basis, who
  handles it, how long it is kept;
- `manifest.json`: each file's size and SHA-256 (written last, of everything above).

A category with `export_bulk` (the access logs) is written by the database, as CSV
rows for its CSV file and as JSON arrays for data.json, two COPY statements read
side by side (`streams`), so a million sessions never sit in the worker's memory
and the worker parses none of them. The other categories come from `export(user)`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cloudportal.csv_cells import csv_text
from cloudportal.privacy import BulkExport, Category, categories
from cloudportal.replica import read_alias

from .archive import FileRecord, Member, Spool, ZipWriter
from .streams import CopyReader, copy_query, copy_together, snapshot_connection, snapshot_export

FORMAT = "cloudportal-export/1"
#: COPY options under which a JSON array comes out as it is: JSON text holds no line
#: break or control character, so with these as quote and delimiter nothing is quoted.
JSON_COPY = "(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"


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
    return csv_text(value)


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
        category: it is compressed into a temporary file (in memory up to 1 MB,
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
        columns = category.columns
        if bulk is not None and bulk.columns != columns:
            raise ValueError(f"{category.key}: export_bulk's columns are not the category's columns")
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
            count = self._python_rows(columns, category.export(self.user), csv_file, data_json)
        data_json.write(f'], "count": {count}}}'.encode())
        return count

    def _python_rows(self, columns, records: Iterable[dict], csv_file: Member, json_rows: Spool) -> int:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
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
        csv_file.write(_csv_line(bulk.columns))
        records = JsonRecords(data_json)
        bulk_copy(bulk, rows=csv_file.write, records=records.write)
        return records.count

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


def bulk_copy(bulk: BulkExport, *, rows: Callable[[bytes], None], records: Callable[[bytes], None]) -> None:
    """A bulk category's records, written by the database (see `streams`): its CSV
    rows to `rows`, its JSON arrays (a line each) to `records`, in blocks, every part
    from one snapshot. Outside any transaction, both come on two connections at
    once; inside one (whose snapshot a second connection cannot share, as it may
    hold rows not yet committed), one after the other on this connection. On the
    read replica inside a replica block (`cloudportal.replica`), like the rest of
    the build's reads."""
    if not bulk.parts:
        return
    db = connections[read_alias()]
    csv_queries = [copy_query(f"COPY ({bulk.rows_sql()}) TO STDOUT WITH (FORMAT csv)", p) for p in bulk.parts]
    json_queries = [copy_query(f"COPY ({bulk.json_sql()}) TO STDOUT WITH {JSON_COPY}", p) for p in bulk.parts]
    outermost = not db.in_atomic_block
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET LOCAL jit = off")  # compiling the query costs more than it saves here
        pgconn = db.connection.pgconn
        if outermost:
            with snapshot_connection(snapshot_export(db), db) as second:
                copy_together([CopyReader(pgconn, csv_queries, rows), CopyReader(second, json_queries, records)])
        else:
            copy_together([CopyReader(pgconn, csv_queries, rows)])
            copy_together([CopyReader(pgconn, json_queries, records)])


class JsonRecords:
    """data.json's records of a bulk category, from blocks of COPY's JSON output (an
    array per line: JSON text holds no raw line break), joined by ",\\n"."""

    def __init__(self, data_json) -> None:
        self.data_json = data_json
        self.count = 0

    def write(self, block: bytes) -> None:
        rows = block.count(b"\n")
        self.data_json.write((b",\n" if self.count else b"\n") + block[:-1].replace(b"\n", b",\n"))
        self.count += rows
