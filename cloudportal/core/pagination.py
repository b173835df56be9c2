"""Pagination: a page of a customer's list or a 404, and a paginator for tables too
large to count (SPEC §4: large tables paginate without counting every row)."""

from __future__ import annotations

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


def page_or_404(object_list, *, per_page: int, number: str | int = 1) -> Page:
    """Page `number` of `object_list` (as the query string gives it), or a 404 for a
    page that is not a number or is past the last one. An empty list has an empty
    page 1."""
    try:
        return Paginator(object_list, per_page).page(number)
    except InvalidPage:
        raise Http404(_("There is no such page.")) from None


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
