"""How many requests from authorities were decided in a period, by outcome and kind of
authority, for the transparency report (SPEC §4: counted as disclosed, refused or
challenged).

The requests live on a higher floor (authorities/), which registers its counter
here from its AppConfig.ready; this module imports nothing of it. Counts only:
nothing here names or singles out anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

#: The outcomes the report shows, in order.
OUTCOMES = ("disclosed", "refused", "challenged")

#: (start, end) -> {outcome: {authority kind: count}}, for requests decided on a day
#: in [start, end).
Counter = Callable[[date, date], dict[str, dict[str, int]]]
#: () -> the local day of the earliest decision, or None when none was made yet.
FirstDecided = Callable[[], date | None]
_counters: list[Counter] = []
_firsts: list[FirstDecided] = []


def request_counter_register(counter: Counter, *, first_decided: FirstDecided | None = None) -> None:
    if counter not in _counters:
        _counters.append(counter)
    if first_decided is not None and first_decided not in _firsts:
        _firsts.append(first_decided)


def authority_requests_first_decided() -> date | None:
    """The day of the earliest decision on any request, or None."""
    days = [day for first in _firsts if (day := first()) is not None]
    return min(days, default=None)


def authority_requests_counted(*, start: date, end: date) -> dict[str, dict[str, int]]:
    """Requests decided from `start` (included) to `end` (excluded): for each outcome
    of OUTCOMES, the count per kind of authority (kinds with none left out)."""
    totals: dict[str, dict[str, int]] = {outcome: {} for outcome in OUTCOMES}
    for counter in _counters:
        for outcome, kinds in counter(start, end).items():
            for kind, n in kinds.items():
                totals[outcome][kind] = totals[outcome].get(kind, 0) + n
    return totals
