"""Dates and times as people read them, in one format family (cloudportal/formats:
"1 Dec 2026, 22:00", "1 déc. 2026, 22:00") and in the portal's time zone
(settings.TIME_ZONE, the customers' own), and the same dates read back from a form.

Pages and emails use the `date` filter with "DATE_FORMAT" or "DATETIME_FORMAT" (the
template engine turns aware datetimes to local time first); Python code that writes a
date into a text uses `day_shown` and `moment_shown` here, never strftime, which would
write the UTC day in ISO or US order.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import nullcontext
from datetime import date, datetime

from django import forms
from django.utils import dates as month_names
from django.utils import timezone, translation
from django.utils.formats import date_format


def day_shown(value: date | datetime) -> str:
    """'1 Dec 2026': the local day of a moment, or a day."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return date_format(value, "DATE_FORMAT")


def moment_shown(value: datetime) -> str:
    """'1 Dec 2026, 22:00', in local time."""
    return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")


def _folded(text: str) -> str:
    """Lower case, without accents or dots: 'Déc.' and 'dec' read the same."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return text.lower().replace(".", "").strip()


_SHOWN_DAY = re.compile(r"^\s*(\d{1,2})\s+([^\W\d_][^\d]*?)\.?\s+(\d{4})\s*$")


def day_parse(text: str) -> date | None:
    """The day written as it is shown ('1 Dec 2026', '1 déc. 2026', '1 December 2026',
    '1 décembre 2026'), month names in the active language or in English; None when
    `text` is not such a day."""
    match = _SHOWN_DAY.match(text or "")
    if not match:
        return None
    day, month_text, year = match.groups()
    number = _month_number(_folded(month_text))
    if number is None:
        number = _month_number(_folded(month_text), language="en")
    try:
        return date(int(year), number, int(day)) if number else None
    except ValueError:
        return None


def _month_number(wanted: str, language: str | None = None) -> int | None:
    with translation.override(language) if language else nullcontext():
        for number in range(1, 13):
            names = (month_names.MONTHS[number], month_names.MONTHS_3[number], month_names.MONTHS_AP[number])
            if wanted in {_folded(name) for name in names}:
                return number
    return None


class ShownDateField(forms.DateField):
    """A date field that reads ISO 8601 (what <input type="date"> sends), the
    language's DATE_INPUT_FORMATS, and the day as the portal shows it."""

    def strptime(self, value: str, format: str) -> date:
        try:
            return super().strptime(value, format)
        except (ValueError, TypeError):
            shown = day_parse(value)
            if shown is None:
                raise
            return shown
