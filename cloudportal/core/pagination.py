"""Pagination for tables too large to count (SPEC §4: large tables paginate without
counting every row)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """A paginator that counts at most `cap` rows.

    The count runs on a LIMITed subquery (SELECT COUNT(*) FROM (… LIMIT cap + 1)),
    so it stops after cap + 1 rows instead of reading the whole table; past the cap
    the count says `cap` and `count_is_capped` is true. Pages beyond the cap are not
    offered: staff narrow the list with search and filters instead. For a ModelAdmin,
    set `paginator = CappedCountPaginator` and `show_full_result_count = False`.
    """

    cap = 10_000

    @cached_property
    def _capped_count(self) -> tuple[int, bool]:
        rows = self.object_list
        if hasattr(rows, "order_by"):
            rows = rows.order_by()  # which rows are counted does not matter, only how many
        counted = rows[: self.cap + 1].count() if hasattr(rows, "count") else len(rows[: self.cap + 1])
        return min(counted, self.cap), counted > self.cap

    @cached_property
    def count(self) -> int:
        return self._capped_count[0]

    @property
    def count_is_capped(self) -> bool:
        return self._capped_count[1]
