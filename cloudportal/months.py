"""Month arithmetic: the one place the portal counts in months.

Due dates of data requests (one month, extendable by two), retention periods (12
months from a session's start, 12 months after an answer), and the monthly
partitions of the sessions table all step through months with these functions.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (or earlier, when negative), or that month's last
    day when it is shorter; the time and time zone stay as they are."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_start(value: date | datetime) -> date:
    """The first day of the month holding `value` (in its own time zone)."""
    return date(value.year, value.month, 1)


def month_add(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: datetime, last: datetime) -> list[date]:
    """The UTC months from the one holding `first` to the one holding `last`, each as
    its first day."""
    month, end = month_start(first.astimezone(UTC)), month_start(last.astimezone(UTC))
    months = []
    while month <= end:
        months.append(month)
        month = month_add(month, 1)
    return months
