"""What changed between two statement versions, for people.

The Markdown sources are compared block by block (paragraphs, headings, list items
separated by blank lines) with difflib, and each block is rendered through the
statement's safe Markdown renderer, so the diff reads like the statement itself with
removed and added passages marked.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from .markdown import markdown_to_html

_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class DiffBlock:
    #: "same", "removed" or "added"
    kind: str
    html: SafeString


def _blocks(text: str) -> list[str]:
    return [block.strip() for block in _BLANK_LINES.split(text.replace("\r\n", "\n")) if block.strip()]


def _render(block: str) -> SafeString:
    return mark_safe(markdown_to_html(block))  # noqa: S308 - sanitised by nh3


def statement_diff(*, old: str, new: str, context: int = 1) -> list[DiffBlock | None]:
    """Blocks of the new text with what was removed and added; unchanged stretches
    are cut down to `context` blocks around each change, a None marking a cut."""
    before, after = _blocks(old), _blocks(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    out: list[DiffBlock | None] = []
    for group in matcher.get_grouped_opcodes(context):
        if out:
            out.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffBlock("same", _render(block)) for block in after[j1:j2])
                continue
            out.extend(DiffBlock("removed", _render(block)) for block in before[i1:i2])
            out.extend(DiffBlock("added", _render(block)) for block in after[j1:j2])
    return out
