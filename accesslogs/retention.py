"""How long a session is kept: the one place that says so (SPEC §2, §6).

A session is kept ACCESS_LOG_RETENTION_MONTHS (12) months from its start, then
erased; the customer's pages show the local day that happens, and the retention
sweep erases what started before `retention_cutoff()`.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from cloudportal.months import add_months


def erase_at(started_at: datetime) -> datetime:
    """The moment a session that started at `started_at` reaches the end of its retention."""
    return add_months(started_at, settings.ACCESS_LOG_RETENTION_MONTHS)


def erase_on(started_at: datetime) -> date:
    """The day (local, in settings.TIME_ZONE) a session is erased, as customers are told."""
    return timezone.localdate(erase_at(started_at))


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Sessions that started before this moment are past their retention."""
    return add_months(now or timezone.now(), -settings.ACCESS_LOG_RETENTION_MONTHS)
