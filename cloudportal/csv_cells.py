"""Text cells a spreadsheet would run as a formula (CSV injection), and their protection.

One rule, for every CSV file the portal writes (the /logs/ download, the data export),
in Python and as an SQL expression (for the export's COPY), both built from the
constants below. A cell is protected, with a leading apostrophe, when it starts with:

- `=` or `@`, or a tab or carriage return (which a spreadsheet may strip before
  reading the rest as a formula);
- `+` or `-` followed by anything but a plain number: `+33612345678` (a phone number
  in international form) and `-12.5` stay as they are, `+cmd|' /C calc'!A0` and
  `-2+3` are protected.

A plain number is the sign, digits, and an optional decimal part of digits.
"""

from __future__ import annotations

import re

#: A cell starting with one of these is protected whatever follows.
FORMULA_STARTS = ("=", "@", "\t", "\r")
#: A cell starting with one of these is protected unless it is a plain number.
SIGN_STARTS = ("+", "-")
#: What follows the sign in a plain number (not protected).
PLAIN_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
#: The leading character of a protected cell.
PROTECTION = "'"

_ESCAPES = {"\t": r"\t", "\r": r"\r"}


def _bracket(chars: tuple[str, ...]) -> str:
    """A bracket expression of `chars` that Python's re and PostgreSQL's regular
    expressions read alike (control characters as escapes, a dash last)."""
    ordered = sorted(chars, key=lambda c: c == "-")
    return "[" + "".join(_ESCAPES.get(c, c) for c in ordered) + "]"


#: The rule as one regular expression, the same text in Python and in PostgreSQL
#: (`\Z` is the end of the text in both, even after a line break).
FORMULA_PATTERN = rf"^(?:{_bracket(FORMULA_STARTS)}|{_bracket(SIGN_STARTS)}(?!{PLAIN_NUMBER}\Z))"
_FORMULA = re.compile(FORMULA_PATTERN)


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would run this text as a formula."""
    return _FORMULA.match(text) is not None


def csv_text(text: str) -> str:
    """The text as a CSV cell: a formula gets a leading apostrophe."""
    return PROTECTION + text if is_formula(text) else text


def csv_text_sql(expression: str) -> str:
    """`csv_text` as a PostgreSQL expression of the SQL text `expression` (NULL stays
    NULL). The pattern holds no quote and no `%`, so the result can go into a query
    with parameters as it is."""
    return f"CASE WHEN {expression} ~ '{FORMULA_PATTERN}' THEN '{PROTECTION * 2}' || {expression} ELSE {expression} END"
