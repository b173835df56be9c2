"""Two sequences lined up for people: what stayed, what went, what came, and what
was changed (a removed and an added element alike enough to be one element edited).

difflib finds the longest matching stretches; where it sees a stretch replaced by
another, the elements are paired in order with the most alike one ahead, so a
reworded sentence reads as changed words rather than a sentence gone and another
come."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

Op = tuple[Literal["same", "removed", "added", "changed"], int | None, int | None]

#: How alike two elements must be (difflib's ratio) to count as one element changed.
ALIKE = 0.5


def likeness(a: Sequence[str], b: Sequence[str]) -> float:
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if matcher.real_quick_ratio() < ALIKE or matcher.quick_ratio() < ALIKE:
        return 0.0
    return matcher.ratio()


def sequences_align(old: Sequence[str], new: Sequence[str], *, parts: Callable[[str], Sequence[str]]) -> Iterator[Op]:
    """(kind, old index, new index) in reading order. `old` and `new` are compared
    whole; `parts` cuts an element into what two elements' likeness is measured on."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            yield from (("same", i, j) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            yield from _pair(old, new, range(i1, i2), range(j1, j2), parts)


def _pair(old, new, olds: range, news: range, parts) -> Iterator[Op]:
    j = news.start
    for i in olds:
        best, best_ratio = None, ALIKE
        for k in range(j, news.stop):
            ratio = likeness(parts(old[i]), parts(new[k]))
            if ratio >= best_ratio and (best is None or ratio > best_ratio):
                best, best_ratio = k, ratio
        if best is None:
            yield ("removed", i, None)
            continue
        yield from (("added", None, k) for k in range(j, best))
        yield ("changed", i, best)
        j = best + 1
    yield from (("added", None, k) for k in range(j, news.stop))
