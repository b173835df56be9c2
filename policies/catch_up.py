"""Bulk emails whose queuing task was lost (the broker down when a version was
published or an announcement sent, or the worker killed): found again in the
database and queued again by the beat job `catch-up-bulk-emails`.

Both tasks are idempotent (a dedup key per customer), so queuing one again is safe;
a task still running when the job looks is left alone for the tasks' hard time
limit (`EXPORT_BUILD_LEASE_SECONDS`, the time limit and a minute)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from cloudportal.broker import queue_now
from cloudportal.core.models import OutboundEmail

from .models import Announcement, StatementVersion
from .services import customers_active

#: Versions and announcements older than this are not looked at any more.
CATCH_UP_WITHIN = timedelta(days=30)


def _window(now: datetime) -> tuple[datetime, datetime]:
    return now - CATCH_UP_WITHIN, now - timedelta(seconds=settings.EXPORT_BUILD_LEASE_SECONDS)


def statement_notices_missing(*, now: datetime | None = None) -> list[int]:
    """Published versions whose notices were never queued. The notices of a version
    are stored in one INSERT (all or none), so one customer active when it was
    published tells: if they have no notice, nobody has."""
    since, until = _window(now or timezone.now())
    missing = []
    for version in StatementVersion.objects.filter(published_at__gte=since, published_at__lt=until):
        witness = customers_active().filter(date_joined__lte=version.published_at).order_by("pk").first()
        key = f"statement:{version.pk}:{witness.pk}" if witness else None
        if witness is not None and not OutboundEmail.objects.filter(dedup_key=key).exists():
            missing.append(version.pk)
    return missing


def announcements_unfinished(*, now: datetime | None = None) -> list[int]:
    """Announcements sent whose queuing never finished (it records its recipients
    at the end): each run again goes on where the last one stopped."""
    since, until = _window(now or timezone.now())
    sent = list(
        Announcement.objects.filter(sent_at__gte=since, sent_at__lt=until, recipients=0).values_list("pk", flat=True)
    )
    if not sent or not customers_active().filter(email_service_improvement=True).exists():
        return []  # nobody to write to: 0 recipients is the right count
    return sent


def bulk_emails_catch_up(*, now: datetime | None = None) -> int:
    """Queue again the notices and announcements found missing; returns how many."""
    from . import tasks  # tasks.py imports the services

    queued = sum(queue_now(tasks.statement_notices_queue, pk) for pk in statement_notices_missing(now=now))
    return queued + sum(queue_now(tasks.announcement_emails_queue, pk) for pk in announcements_unfinished(now=now))
