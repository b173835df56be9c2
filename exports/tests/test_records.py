"""data.json records made from COPY's CSV: the JSON holds exactly what the database
holds, whatever the text (quotes, backslashes, line breaks, control characters,
NULL against an empty string), numbers as numbers, timestamps in ISO 8601."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.db import connection, transaction

from cloudportal.privacy import BulkExport
from exports import build
from exports.records import JsonRecords

pytestmark = pytest.mark.django_db

TEXTS = [
    "Gare de Lyon",
    "12, rue de la Paix",
    'Le "Grand" Café',
    "back\\slash",
    "two\nlines",
    "tab\there, cr\rthere",
    "bell\x07 and \x1f",
    "NA",
    "NULL",
    "",
    None,
    "=1+1",
    "émoji 🚆 and \u2028",
]
COLUMNS = ("label", "started", "bytes")


def query(texts: list[str | None]) -> tuple[str, tuple]:
    """A SELECT of one row per text, with a timestamp and a number, in order."""
    rows = " UNION ALL ".join(
        "SELECT %s::int AS n, %s::text AS label, "
        "timestamptz '2026-05-01 08:30:00.25+00' + make_interval(secs => %s) AS started, "
        "(%s::bigint * 1000000007) AS bytes"
        for _ in texts
    )
    params = tuple(value for i, text in enumerate(texts) for value in (i, text, i, i))
    return f"SELECT label, started, bytes FROM ({rows}) AS t ORDER BY n", params  # noqa: S608 - test SQL


def converted(texts: list[str | None]) -> list[list]:
    sql, params = query(texts)
    bulk = BulkExport(columns=COLUMNS, parts=((sql, params),), numbers=frozenset({"bytes"}), timestamps={"started"})
    records = JsonRecords(bulk)
    out = []
    with transaction.atomic():
        for block in build._copy_out(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params):
            text, rows = records.convert(block)
            decoded = json.loads("[" + bytes(text).decode() + "]")
            assert len(decoded) == rows
            out += decoded
    return out


def test_every_text_comes_back_as_the_database_holds_it():
    records = converted(TEXTS)
    assert [r[0] for r in records] == TEXTS
    assert [r[2] for r in records] == [i * 1000000007 for i in range(len(TEXTS))]
    for i, record in enumerate(records):
        assert record[1].startswith("2026-05-01T08:30:") and record[1].endswith("+00:00"), record[1]
        assert datetime.fromisoformat(record[1]).timestamp() == pytest.approx(
            datetime.fromisoformat("2026-05-01T08:30:00.25+00:00").timestamp() + i
        )


def test_plain_text_takes_the_quick_path_with_the_same_result():
    plain = ["Gare de Lyon", "Gare du Nord", "Opéra"]
    assert [r[0] for r in converted(plain)] == plain


def test_timestamps_in_another_time_zone_keep_their_offset():
    sql, params = query(["x"])
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL TIME ZONE 'Asia/Kolkata'")
        bulk = BulkExport(columns=COLUMNS, parts=((sql, params),), timestamps=frozenset({"started"}))
        [block] = build._copy_out(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)
        text, _rows = JsonRecords(bulk).convert(block)
    [[_label, started, number]] = json.loads("[" + bytes(text).decode() + "]")
    assert started == "2026-05-01T14:00:00.25+05:30" and number == "0"


def test_a_reader_that_stops_early_leaves_the_connection_usable():
    """As when the thread writing the blocks fails: the COPY is cancelled, the
    error rolls the transaction back, and the connection goes on."""
    with pytest.raises(OSError), transaction.atomic():
        blocks = build._copy_out("COPY (SELECT repeat('x', 1000) FROM generate_series(1, 5000)) TO STDOUT", ())
        next(blocks)
        blocks.close()
        raise OSError("disk full")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_failing_copy_is_a_database_error():
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        list(build._copy_out("COPY (SELECT 1 / (g - 3) FROM generate_series(1, 5) AS g) TO STDOUT", ()))
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
