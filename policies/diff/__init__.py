"""What changed between two statement versions, for people.

The Markdown sources are cut into blocks (headings, paragraphs, tables, and each list
item on its own: blocks.py) and the blocks lined up (align.py). A block that is gone
or new is shown whole, marked removed or added; a block that was edited is shown once,
with the sentences and words that changed marked inside it (inline.py). Every block is
rendered through the statement's own sanitiser (markdown-it-py, nh3), so the diff
reads like the statement itself. Unchanged stretches are cut down to a block or so of
context around each change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from ..markdown import markdown_to_html
from .align import sequences_align
from .blocks import markdown_blocks
from .inline import html_changes_marked, words

__all__ = ["DiffBlock", "statement_diff"]


@dataclass(frozen=True)
class DiffBlock:
    #: "same", "removed", "added" or "changed" (words marked inside)
    kind: str
    html: SafeString


def _rendered(text: str) -> list[str]:
    return [markdown_to_html(block.source).strip() for block in markdown_blocks(text)]


def statement_diff(*, old: str, new: str, context: int = 1) -> list[DiffBlock | None]:
    """Blocks of the new text with what was removed, added and changed; unchanged
    stretches are cut down to `context` blocks around each change, a None marking a
    cut. Empty when the two texts read the same."""
    before, after = _rendered(old), _rendered(new)
    keys_before = [" ".join(html.split()) for html in before]
    keys_after = [" ".join(html.split()) for html in after]
    blocks: list[DiffBlock] = []
    for kind, i, j in sequences_align(keys_before, keys_after, parts=words):
        if kind == "same":
            blocks.append(DiffBlock("same", mark_safe(after[j])))  # noqa: S308 - sanitised by nh3
        elif kind == "removed":
            blocks.append(DiffBlock("removed", mark_safe(before[i])))  # noqa: S308
        elif kind == "added":
            blocks.append(DiffBlock("added", mark_safe(after[j])))  # noqa: S308
        else:
            # Sanitised blocks, with <ins>/<del> around their text only (inline.py).
            blocks.append(DiffBlock("changed", mark_safe(html_changes_marked(before[i], after[j]))))  # noqa: S308
    return _with_context(blocks, context)


def _with_context(blocks: list[DiffBlock], context: int) -> list[DiffBlock | None]:
    changed = [n for n, block in enumerate(blocks) if block.kind != "same"]
    if not changed:
        return []
    keep = {n for c in changed for n in range(c - context, c + context + 1) if 0 <= n < len(blocks)}
    out: list[DiffBlock | None] = []
    for n, block in enumerate(blocks):
        if n in keep:
            if out and n - 1 not in keep:
                out.append(None)
            out.append(block)
    return out
