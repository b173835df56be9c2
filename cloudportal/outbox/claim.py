"""Who sends which rows: sender slots, claims of due rows and their expiry.

Up to EMAIL_SENDERS senders work a backlog side by side, each keeping a slot alive in
the cache; a slot whose sender died is free again after SENDER_HEARTBEAT_SECONDS.

A sender claims a chunk of due rows with SELECT ... FOR UPDATE SKIP LOCKED, so two
senders never hold the same row. Transactional emails (a verification, a reset, a
receipt) come before any bulk mail (notices, announcements), whatever the backlog. A
claim expires after EMAIL_CLAIM_SECONDS: the rows of a sender that died go to another
one then, before any new row of their priority. A bulk queuing of many rows refreshes
the outbox's statistics, so that claims keep reading only the rows they take.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cloudportal.core.models import OutboundEmail

#: A sender slot with no chunk started for this long is free again (its sender died).
SENDER_HEARTBEAT_SECONDS = 60

#: A bulk queuing of at least this many rows refreshes the outbox's statistics.
ANALYZE_AFTER_ROWS = 10_000


def _sender_key(slot: int) -> str:
    return f"outbox:sender:{slot}"


def sender_slots(*, count: int) -> range:
    """The slots of the senders wanted for `count` messages: one per chunk, at most
    EMAIL_SENDERS."""
    return range(min(settings.EMAIL_SENDERS, math.ceil(count / settings.EMAIL_CHUNK_SIZE)))


def sender_slot_take(*, slot: int) -> bool:
    """Take the slot for a new sender; False while another sender holds it."""
    return cache.add(_sender_key(slot), 1, timeout=SENDER_HEARTBEAT_SECONDS)


def sender_alive(*, slot: int) -> None:
    cache.set(_sender_key(slot), 1, timeout=SENDER_HEARTBEAT_SECONDS)


def sender_done(*, slot: int) -> None:
    cache.delete(_sender_key(slot))


#: The order in which senders take rows: every transactional email first.
PRIORITIES = (OutboundEmail.Priority.TRANSACTIONAL, OutboundEmail.Priority.BULK)


def emails_claim(
    *, limit: int, ids: list[int] | None = None, priorities: tuple[int, ...] = PRIORITIES
) -> tuple[str, list[int], datetime]:
    """Claim up to `limit` pending rows (those due, or the `ids` given) for one sender.

    Rows another transaction is claiming are skipped (SKIP LOCKED), as are rows
    whose claim has not expired, so two senders never hold the same row. Due rows
    are taken one priority after the other (`priorities`: transactional, then
    bulk), and within a priority, rows whose claim expired (a sender that died)
    before new ones.

    Each read is one priority of one partial index (`email_due_idx`: pending and
    unclaimed, by priority and due time; `email_claimed_idx`: pending and claimed,
    by priority and expiry), so a claim reads the rows it takes and not the others:
    while a million notices go out, the claimed and sent ones leave the first index
    instead of being read and passed over by every claim after them, and a
    transactional email is found without reading any notice."""
    token = uuid.uuid4().hex
    now = timezone.now()
    until = now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
    with transaction.atomic():
        pending = OutboundEmail.objects.select_for_update(skip_locked=True).filter(status=OutboundEmail.Status.PENDING)
        if ids is not None:
            rows = pending.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk__in=ids)
            claimed = list(rows.order_by("pk").values_list("pk", flat=True)[:limit])
        else:
            claimed = []
            for priority in priorities:
                of_priority = pending.filter(priority=priority)
                expired = of_priority.filter(claimed_until__lt=now).order_by("claimed_until")
                due = of_priority.filter(claimed_until__isnull=True, next_attempt_at__lte=now)
                for rows in (expired, due.order_by("next_attempt_at")):
                    if len(claimed) < limit:
                        claimed += rows.values_list("pk", flat=True)[: limit - len(claimed)]
        if claimed:
            OutboundEmail.objects.filter(pk__in=claimed).update(claim=token, claimed_until=until)
    return token, claimed, until


def transactional_due() -> bool:
    """Whether a transactional email is waiting (one index probe): a sender busy on
    bulk mail asks this between messages, and sends it next."""
    return OutboundEmail.objects.filter(
        status=OutboundEmail.Status.PENDING,
        priority=OutboundEmail.Priority.TRANSACTIONAL,
        claimed_until__isnull=True,
        next_attempt_at__lte=timezone.now(),
    ).exists()


def emails_due_count(*, cap: int = 100_000) -> int:
    """How many pending emails are due now (counted up to `cap`): unclaimed and due,
    or claimed by a sender whose claim has expired."""
    now = timezone.now()
    count = 0
    for priority in PRIORITIES:
        pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, priority=priority)
        expired = pending.filter(claimed_until__lt=now)
        for rows in (expired, pending.filter(claimed_until__isnull=True, next_attempt_at__lte=now)):
            if count < cap:
                count += rows[: cap - count].count()
    return count


def outbox_analyze(*, stored: int) -> None:
    """After a bulk queuing of `stored` rows, ANALYZE the outbox if they were many
    (PostgreSQL). The planner would still count the rows there were before: it would
    read every due row and sort them for each claim instead of the first few in
    order."""
    if connection.vendor == "postgresql" and stored >= ANALYZE_AFTER_ROWS:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {OutboundEmail._meta.db_table}")
