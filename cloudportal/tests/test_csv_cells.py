"""One rule for spreadsheet formulas in CSV cells, the same in Python and in SQL."""

import pytest
from django.db import connection

from cloudportal.csv_cells import csv_text, csv_text_sql

#: (cell, as the CSV file holds it)
CELLS = [
    ("Gare de Lyon", "Gare de Lyon"),
    ("", ""),
    ("=1+1", "'=1+1"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\r=1", "'\r=1"),
    ("+33612345678", "+33612345678"),  # a phone number in international form
    ("-12.5", "-12.5"),
    ("+0", "+0"),
    ("-2+3", "'-2+3"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("+", "'+"),
    ("-", "'-"),
    ("-12.", "'-12."),
    ("-.5", "'-.5"),
    ("+1e5", "'+1e5"),
    ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
    ("-12\n", "'-12\n"),  # a line break after the number: not a plain number
    ("-١٢", "'-١٢"),  # digits of another script are not plain digits
    ("12-3", "12-3"),
    ("a=1", "a=1"),
    ("x\t", "x\t"),
    ("Le 'Nord'", "Le 'Nord'"),
    ("100 %", "100 %"),
]


@pytest.mark.parametrize(("cell", "written"), CELLS)
def test_only_what_a_spreadsheet_would_run_gets_an_apostrophe(cell, written):
    assert csv_text(cell) == written


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL rule is for PostgreSQL's COPY")
def test_the_sql_rule_gives_the_same_answer_as_the_python_one():
    cells = [cell for cell, _written in CELLS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {csv_text_sql('t.cell')} FROM unnest(%s::text[]) WITH ORDINALITY AS t(cell, n) ORDER BY n",
            [cells],
        )
        from_sql = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT {csv_text_sql('NULL::text')}")
        assert cursor.fetchone()[0] is None
    assert from_sql == [csv_text(cell) for cell in cells] == [written for _cell, written in CELLS]
