"""SQL the ORM does not write for us, shared by every app."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
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


def keyset_pages(queryset: QuerySet, *, size: int) -> Iterator:
    """Every row of `queryset`, read `size` rows at a time, each page starting after
    the last row of the one before (keyset pagination): a large set streams in
    bounded memory without a server-side cursor, which PgBouncer in transaction mode
    cannot keep between statements (DATABASE_POOLER=pgbouncer disables them). Each
    page is a statement of its own, so the pages need no transaction between them.

    `queryset` must be ordered by model fields, all one way, the last one unique
    (e.g. `order_by("-started_at", "-id")`); it yields model instances."""
    fields = [str(f) for f in queryset.query.order_by]
    names = [f.removeprefix("-") for f in fields]
    descending = {f.startswith("-") for f in fields}
    if not fields or len(descending) != 1 or any("__" in n or "?" in n for n in names) or names[-1] not in ("id", "pk"):
        raise ValueError(f"keyset_pages needs an ordering by fields one way, ending with the id: {fields}")
    after = "lt" if descending.pop() else "gt"
    page = queryset
    while True:
        rows = list(page[:size])
        yield from rows
        if len(rows) < size:
            return
        values = [getattr(rows[-1], name) for name in names]
        page = queryset.filter(_after(names, values, after))


def _after(names: list[str], values: list, after: str) -> Q:
    """Rows past (`after`: "gt" or "lt") `values` in the order of `names`: the first
    field bounded (which an index on it serves), then one term per field."""
    past = Q()
    for i, name in enumerate(names):
        past |= Q(**dict(zip(names[:i], values[:i], strict=True)), **{f"{name}__{after}": values[i]})
    return Q(**{f"{names[0]}__{after}e": values[0]}) & past
