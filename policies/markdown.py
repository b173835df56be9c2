"""Statement Markdown to safe HTML: markdown-it renders, nh3 keeps only safe tags."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "code",
    "pre",
    "blockquote",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def markdown_parse(text: str) -> list[Token]:
    """The block and inline tokens of a text, as markdown_to_html parses it."""
    return _md.parse(text)


@lru_cache(maxsize=256)
def markdown_to_html(text: str) -> str:
    """The HTML of a text. A pure function of the text, so each process keeps the
    last texts it rendered (the statement in force is rendered once, not per visit)."""
    return nh3.clean(
        _md.render(text),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
