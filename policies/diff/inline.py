"""Changed words marked inside a changed block.

Both versions of the block are rendered to safe HTML first; the HTML is cut into
tokens (tags, words, spaces, punctuation) and into sentences, sentences are lined up,
and the words of two alike sentences are compared. The result is the new block's HTML,
every tag of it in place, with removed text in <del> and added text in <ins>, each
wrapping text only, so the markup stays well formed. A removed tag is never written:
removed words are shown plain inside the new text's formatting.

The marks say what they are in words, for screen readers, not only by their look."""

from __future__ import annotations

import difflib
import re

from django.utils.html import escape
from django.utils.translation import pgettext

from .align import sequences_align

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\s+|\w+|[^\w\s]")
_SENTENCE_END = {".", "!", "?"}
_BLOCK_TAG = re.compile(r"</?(p|li|ul|ol|br|h[1-6]|blockquote|pre|table|thead|tbody|tr|th|td)\b", re.IGNORECASE)


def _is_tag(token: str) -> bool:
    return token.startswith("<")


def html_tokens(html: str) -> list[str]:
    return _TOKEN.findall(html)


def words(html: str) -> list[str]:
    """The text of an HTML fragment, word by word (what likeness is measured on)."""
    return [t for t in html_tokens(html) if not _is_tag(t) and not t.isspace()]


def _sentences(tokens: list[str]) -> list[list[str]]:
    """Sentences, each with the spaces after it; a block-level tag stands alone."""
    out: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if _BLOCK_TAG.match(token):
            out.extend(part for part in (current, [token]) if part)
            current = []
        elif token.isspace() and current and current[-1] in _SENTENCE_END:
            out.append([*current, token])
            current = []
        else:
            current.append(token)
    if current:
        out.append(current)
    return out


def _wrap(tag: str, text: str, label: str) -> str:
    """`text` in <ins> or <del>, the spaces around it left outside."""
    if not text.strip():
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    hidden = f'<span class="visually-hidden">{escape(label)} </span>' if label else ""
    return f"{lead}<{tag}>{hidden}{text.strip()}</{tag}>{trail}"


def _removed(tokens: list[str]) -> str:
    """Removed text, without its tags (the new text's formatting stays whole)."""
    return _wrap("del", "".join(t for t in tokens if not _is_tag(t)), pgettext("statement diff", "Removed:"))


def _added(tokens: list[str]) -> str:
    """The added tokens, tags as they are, each stretch of text between them in
    <ins> (the first one labelled)."""
    out: list[str] = []
    run: list[str] = []
    label = pgettext("statement diff", "Added:")
    for token in [*tokens, None]:
        if token is not None and not _is_tag(token):
            run.append(token)
            continue
        text = "".join(run)
        out.append(_wrap("ins", text, label))
        if text.strip():
            label = ""
        run = []
        if token is not None:
            out.append(token)
    return "".join(out)


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, with the spaces alone between two changes folded into
    them: "a b c" to "x y z" reads as one change, not three."""
    ops: list[tuple[str, int, int, int, int]] = []
    for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op[0] != "equal" and len(ops) >= 2 and ops[-1][0] == "equal" and ops[-2][0] != "equal":
            _tag, _i1, _i2, g1, g2 = ops[-1]
            if all(token.isspace() for token in new[g1:g2]):
                ops.pop()
                first = ops.pop()
                op = ("replace", first[1], op[2], first[3], op[4])
        ops.append(op)
    return ops


def _words_marked(old: list[str], new: list[str]) -> str:
    out = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        if tag == "equal":
            out.extend(new[j1:j2])
        else:
            out.append(_removed(old[i1:i2]))
            out.append(_added(new[j1:j2]))
    return "".join(out)


def html_changes_marked(old_html: str, new_html: str) -> str:
    """The new HTML with what changed from the old marked, sentence by sentence and
    word by word."""
    old = _sentences(html_tokens(old_html))
    new = _sentences(html_tokens(new_html))
    old_keys = ["".join(s) for s in old]
    new_keys = ["".join(s) for s in new]
    out = []
    for kind, i, j in sequences_align(old_keys, new_keys, parts=words):
        if kind == "same":
            out.append(new_keys[j])
        elif kind == "removed":
            out.append(_removed(old[i]))
        elif kind == "added":
            out.append(_added(new[j]))
        else:
            out.append(_words_marked(old[i], new[j]))
    return "".join(out)
