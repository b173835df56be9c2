"""Reading a rendered diff in tests: the texts marked removed and added."""

import re

_HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.S)
_TAGS = re.compile(r"<[^>]+>")


def marked(html: str, tag: str) -> list[str]:
    """The texts inside each <del> or <ins> of a page (block or word marks), without
    their hidden labels and inner tags, spaces folded."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", str(html), re.S)
    return [" ".join(_TAGS.sub(" ", _HIDDEN.sub("", text)).split()) for text in found]
