"""A bulk category as the database writes it, as CSV rows and as JSON records: both
hold exactly what the database holds, whatever the text (quotes, backslashes, line
breaks, control characters, NULL against an empty string), in order, numbers as
numbers and timestamps in ISO 8601 in the JSON; read on two connections at once
outside a transaction and on one inside (the two also through PgBouncer in transaction
mode); a failure leaves the connection usable."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from cloudportal.privacy import BulkExport
from exports import build, streams

TEXTS = [
    "Gare de Lyon",
    "12, rue de la Paix",
    'Le "Grand" Café',
    "back\\slash",
    "two\nlines",
    "tab\there, cr\rthere",
    "bell\x07 and \x1f, \x01 and \x02",
    "NA",
    "NULL",
    "",
    None,
    "=1+1",
    "émoji 🚆 and \u2028",
]

#: Where the rows come from: one per text of the part, in order.
SOURCE = (
    "FROM (SELECT n, t.label FROM unnest(%s::text[]) WITH ORDINALITY AS t(label, n)) AS t "
    "WHERE %s IS NOT NULL ORDER BY n"
)
SELECT = (
    ("label", "t.label"),
    ("started", "timestamptz '2026-05-01 08:30:00.25+00' + make_interval(secs => n + %s)"),
    ("bytes", "n * 1000000007"),
)

#: Both ways of reading: on one connection inside a transaction, on two outside.
both_ways = pytest.mark.parametrize(
    "inside",
    [
        pytest.param(True, marks=pytest.mark.django_db, id="one-connection"),
        pytest.param(False, marks=pytest.mark.django_db(transaction=True), id="two-connections"),
    ],
)


def bulk_of(*parts: list[str | None]) -> BulkExport:
    return BulkExport(select=SELECT, source=SOURCE, parts=tuple((i * 100, part, "go") for i, part in enumerate(parts)))


def read(bulk: BulkExport, *, inside: bool, rows_sink=None) -> tuple[list[list[str]], list[list]]:
    """The CSV rows and the JSON records, through the export's own code."""
    csv_text, data_json = [], io.BytesIO()
    records = build.JsonRecords(data_json)
    rows_sink = rows_sink or csv_text.append
    if inside:
        with transaction.atomic():
            build.bulk_copy(bulk, rows=rows_sink, records=records.write)
    else:
        assert not connection.in_atomic_block
        build.bulk_copy(bulk, rows=rows_sink, records=records.write)
    decoded = json.loads("[" + data_json.getvalue().decode() + "]")
    assert len(decoded) == records.count
    return list(csv.reader(io.StringIO(b"".join(csv_text).decode(), newline=""))), decoded


def connection_usable() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@both_ways
def test_every_text_comes_back_as_the_database_holds_it(inside):
    rows, records = read(bulk_of(TEXTS[:5], [], TEXTS[5:]), inside=inside)
    assert [r[0] for r in records] == TEXTS
    assert [r[0] for r in rows] == [text or "" for text in TEXTS]
    numbers = [n * 1000000007 for n in range(1, 6)] + [n * 1000000007 for n in range(1, len(TEXTS) - 4)]
    assert [r[2] for r in records] == numbers and [r[2] for r in rows] == [str(n) for n in numbers]
    for record, row in zip(records, rows, strict=True):
        started = datetime.fromisoformat(record[1])
        assert "T" in record[1] and record[1].endswith("+00:00"), record[1]
        assert started == datetime.fromisoformat(row[1])  # PostgreSQL's own text in the CSV
    # The second part's clock is 200 s ahead: the parts come in order.
    assert datetime.fromisoformat(records[5][1]).timestamp() - datetime.fromisoformat(records[0][1]).timestamp() == 200


@pytest.mark.django_db(transaction=True)
def test_both_connections_write_timestamps_in_the_session_time_zone(database_route):
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")
    try:
        rows, [record] = read(bulk_of(["x"]), inside=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert record[1] == "2026-05-01T14:00:01.25+05:30"
    assert rows[0][1] == "2026-05-01 14:00:01.25+05:30"


@both_ways
def test_a_sink_that_fails_stops_the_copy_and_leaves_the_connection_usable(inside):
    """As when the disk is full: the statements are cancelled, the error rolls the
    transaction back, and the connection goes on."""
    many = ["x" * 1000] * 5000

    def full(block: bytes) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        read(bulk_of(many), inside=inside, rows_sink=full)
    connection_usable()


@both_ways
def test_a_failing_copy_is_a_database_error_and_leaves_the_connection_usable(inside):
    bulk = BulkExport(select=(("n", "1 / (g - 3)"),), source="FROM generate_series(1, %s) AS g", parts=((5,),))
    with pytest.raises(DatabaseError):
        read(bulk, inside=inside)
    connection_usable()


@pytest.mark.django_db
def test_reading_stops_at_block_boundaries_on_whole_rows(monkeypatch):
    monkeypatch.setattr(streams, "COPY_BLOCK", 100)
    blocks = []
    bulk = bulk_of([f"row {i}" for i in range(50)])
    with transaction.atomic():
        build.bulk_copy(bulk, rows=blocks.append, records=lambda block: None)
    assert len(blocks) > 5 and all(block.endswith(b"\n") for block in blocks)
    assert b"".join(blocks).count(b"\n") == 50


@pytest.mark.django_db(transaction=True)
def test_both_connections_read_one_snapshot(monkeypatch, database_route):
    """A row committed after the export's snapshot was taken, before the second
    connection starts, is in neither file: the CSV rows and the JSON records match."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE export_snapshot_check (n int)")
        cursor.execute("INSERT INTO export_snapshot_check SELECT generate_series(1, 3)")
    exported = streams.snapshot_export

    def export_then_commit_a_row(db=connection) -> str:
        snapshot = exported(db)
        with psycopg.connect(**connection.get_connection_params()) as other:  # commits on leaving
            other.execute("INSERT INTO export_snapshot_check VALUES (4)")
        return snapshot

    monkeypatch.setattr(build, "snapshot_export", export_then_commit_a_row)
    bulk = BulkExport(select=(("n", "n"),), source="FROM export_snapshot_check ORDER BY n", parts=((),))
    try:
        rows, records = read(bulk, inside=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE export_snapshot_check")
    assert rows == [["1"], ["2"], ["3"]] and records == [[1], [2], [3]]
