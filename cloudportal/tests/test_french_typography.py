"""French typography in the French catalogue: a non-breaking space before ":", ";",
"?" and "!" ("Langue :"), never an ordinary space that a line could break at, nor
none at all."""

import re

from .test_translations import _po_entries

#: An ordinary space before the sign, or a letter right before it and a space or the
#: end after it (not "12:30", "https://", "aa:bb:cc" or a placeholder's "%(x)s").
WRONG = re.compile(r" [:;?!]|[^\W\d_][:;?!](?=\s|$)")


def _prose(text: str) -> str:
    text = re.sub(r"https?://\S+|mailto:\S+", "", text)
    return re.sub(r"<[^>]*>", "", text)


def test_french_strings_put_a_non_breaking_space_before_high_punctuation():
    entries = _po_entries()
    wrong = {msgid: msgstr for msgid, msgstr in entries.items() if WRONG.search(_prose(msgstr))}
    assert wrong == {}
