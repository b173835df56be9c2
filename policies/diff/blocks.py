"""A statement's Markdown source cut into the blocks a diff compares: headings,
paragraphs, tables and each list item on its own (a tight list is one block to
Markdown, so adding an item would otherwise mark the whole list as changed).

The cut follows markdown-it's own parse (each block token knows its source lines),
so a block is exactly the source Markdown renders it from."""

from __future__ import annotations

from dataclasses import dataclass

from ..markdown import markdown_parse

_LIST_OPENS = {"bullet_list_open", "ordered_list_open"}


@dataclass(frozen=True)
class Block:
    #: "heading", "paragraph", "item", "table" or another markdown-it block type
    kind: str
    source: str

    @property
    def key(self) -> str:
        """What two blocks are compared by: the source, whitespace folded."""
        return " ".join(self.source.split())


def _source(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]).strip("\n")


def markdown_blocks(text: str) -> list[Block]:
    """The blocks of a Markdown text, in reading order."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    tokens = markdown_parse(text)
    blocks: list[Block] = []
    in_list = False
    for token in tokens:
        if token.map is None:
            continue
        if token.level == 0 and token.type in _LIST_OPENS:
            in_list = True
        elif token.level == 0 and token.nesting >= 0:
            in_list = False
            kind = token.type.removesuffix("_open")
            blocks.append(Block(kind, _source(lines, *token.map)))
        elif in_list and token.level == 1 and token.type == "list_item_open":
            # An ordered item keeps its number: "3. …" alone renders as <ol start="3">.
            blocks.append(Block("item", _source(lines, *token.map)))
    return [block for block in blocks if block.source.strip()]
