"""A registry category's figures, read together: what "What we hold", the dashboard and
the deletion page show of each category cost one SQL statement for all of them.

A `Count`'s value is given as an int, or as a query the registry reads: a QuerySet
(its number of rows) or a `Scalar` (the one value it selects, such as a sum).
`counts_read` gives every pending count its value in one statement, a scalar subquery
each; `value` read on its own runs its query then. `cloudportal.privacy` re-exports
them (`counts_of` reads a customer's counts of every category).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models


@dataclass(frozen=True)
class Scalar:
    """A query selecting one value in at most one row (a sum, a number of distinct
    values): the figure it gives, 0 when it finds no row or NULL."""

    query: models.QuerySet


class Count:
    """One figure of a category, as "What we hold" shows it: `label` is a plural
    declared with `privacy.noun` (or a text said the same whatever the count)."""

    __slots__ = ("_value", "label")

    def __init__(self, label: Any, value: int | models.QuerySet | Scalar) -> None:
        self.label = label
        self._value = value

    @property
    def value(self) -> int:
        if not isinstance(self._value, int):
            counts_read([self])
        return self._value

    @property
    def pending(self) -> bool:
        return not isinstance(self._value, int)

    @property
    def noun(self) -> str:
        from .privacy import counted_noun

        return counted_noun(self.label, self.value)

    def __repr__(self) -> str:
        return f"Count({str(self.label)!r}, {self._value!r})"


def _count_sql(value: models.QuerySet | Scalar) -> tuple[str, str, tuple] | None:
    """The database alias and SQL expression of one pending figure (read where the
    router sends the query: the replica inside a replica view), None when its query
    cannot match."""
    query = value.query.order_by() if isinstance(value, Scalar) else value.order_by().select_related(None)
    alias = query.db
    try:
        sql, params = query.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:
        return None
    if isinstance(value, Scalar):
        return alias, f"COALESCE(({sql}), 0)", tuple(params)
    return alias, f"(SELECT count(*) FROM ({sql}) AS counted)", tuple(params)  # noqa: S608 - compiled by Django


def counts_read(counts: list[Count]) -> None:
    """Give every pending count its value, in one SQL statement (one per database,
    should they be read from more than one)."""
    by_alias: dict[str, list] = {}
    for n in counts:
        if n.pending:
            found = _count_sql(n._value)
            if found is None:
                n._value = 0
            else:
                by_alias.setdefault(found[0], []).append((n, found[1], found[2]))
    for alias, pending in by_alias.items():
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(sql for _n, sql, _params in pending),
                [param for _n, _sql, params in pending for param in params],
            )
            row = cursor.fetchone()
        for (n, _sql, _params), value in zip(pending, row, strict=True):
            n._value = int(value or 0)
