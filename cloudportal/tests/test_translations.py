"""The French catalogue is complete and its compiled form matches it."""

import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale/fr/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")


def _po_entries() -> dict[str, str]:
    entries = {}
    for block in PO.read_text().split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            raise AssertionError(f"fuzzy entry left in the catalogue:\n{block}")
        match = re.search(
            r'^msgid ((?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?msgstr(?:\[0\])? ((?:".*"\n?)+)', block + "\n", re.M
        )
        if match:
            msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
            msgstr = "".join(re.findall(r'"(.*)"', match.group(2)))
            # A string with a context is compiled as "context\x04msgid" (pgettext).
            context = re.search(r'^msgctxt "(.*)"$', block, re.M)
            if msgid:
                entries[f"{context.group(1)}\x04{msgid}" if context else msgid] = msgstr
    return entries


def test_every_string_is_translated():
    entries = _po_entries()
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog
    missing = [
        msgid
        for msgid in _po_entries()
        if msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8") not in catalog
        and (msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8"), 0) not in catalog
    ]
    assert missing == [], "run `make messages` to compile the catalogue"
