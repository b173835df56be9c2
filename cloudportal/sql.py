"""SQL the ORM does not write for us, shared by every app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL


def any_of(column: str, values: Iterable, *, array_type: str = "") -> tuple[str, list]:
    """`column = ANY(%s)` and its parameters (PostgreSQL): "the column is one of these
    values" with the values as one array parameter, however many there are, instead
    of a placeholder per value, which Django and psycopg take long to build for tens
    of thousands. `array_type` (e.g. "inet[]") casts the array, for statements where
    PostgreSQL cannot tell the elements' type (give them as text, then)."""
    cast = f"::{array_type}" if array_type else ""
    return f"{column} = ANY(%s{cast})", [list(values)]


def one_of(column: str, values: Iterable) -> Q:
    """`any_of` as a Q for a queryset (`column` is "table.column"); on another
    database than PostgreSQL, the ORM's `field__in` (the column's name without any
    `_id`)."""
    if connection.vendor != "postgresql":
        field = column.rsplit(".", 1)[1].removesuffix("_id")
        return Q(**{f"{field}__in": list(values)})
    sql, params = any_of(column, values)
    return Q(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 - the column comes from code
