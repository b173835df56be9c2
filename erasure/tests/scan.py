"""The erasure-completeness scan: every text-like column of every table, searched
for a customer's identifying values, by introspecting PostgreSQL."""

from __future__ import annotations

from django.db import connection

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "inet", "bytea")


def text_columns(cursor) -> list[tuple[str, str, str]]:
    """(table, column, type) of every text-like column of every ordinary or
    partitioned table in the public schema (partitions are read through their parent)."""
    cursor.execute(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        """
    )
    found = []
    for table, column, kind in cursor.fetchall():
        if kind.split("(")[0] in TEXT_TYPES:
            found.append((table, column, kind))
    return sorted(found)


def scan(needles: list[str], cursor=None) -> list[tuple[str, str, str]]:
    """(table, column, needle) wherever a needle occurs, case-insensitively."""
    needles = [n for n in needles if n]
    if cursor is None:
        with connection.cursor() as own:
            return scan(needles, own)
    hits = []
    for table, column, kind in text_columns(cursor):
        expression = f"encode(\"{column}\", 'escape')" if kind == "bytea" else f'"{column}"::text'
        for needle in needles:
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE strpos(lower({expression}), lower(%s)) > 0 LIMIT 1',  # noqa: S608 - names from the catalogue
                [needle],
            )
            if cursor.fetchone():
                hits.append((table, column, needle))
    return hits
