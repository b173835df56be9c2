"""The outbox's Celery tasks, and starting senders: the one module of the package
that knows Celery.

The tasks keep the names they had when they lived in `cloudportal.outbox.tasks`, so
the beat schedule (CELERY_BEAT_SCHEDULE) and messages already on the broker still
find them. This package is not a Django app, so `cloudportal/celery.py` names it for
autodiscovery.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import transaction

from ..broker import queue_now
from . import send
from .claim import emails_due_count, sender_alive, sender_done, sender_slot_take, sender_slots


@shared_task(acks_late=True, ignore_result=True)
def email_deliver(email_id: int) -> bool:
    """Idempotent: a sent or claimed email is skipped. Failures are retried with
    backoff by `emails_send_pending`, not by Celery, so the row stays the truth."""
    return send.email_deliver(email_id=email_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def emails_send_chunk(self, slot: int = 0) -> int:
    """Send one chunk of due emails over one connection; while chunks come back
    full, queue the next one in the same sender slot, so EMAIL_SENDERS senders drain
    a backlog side by side. Run in-process (embedded mode), it loops instead."""
    sent = 0
    while True:
        sender_alive(slot=slot)
        result = send.emails_send_chunk()
        sent += result.sent
        if result.claimed < settings.EMAIL_CHUNK_SIZE:
            sender_done(slot=slot)
            return sent
        if not self.request.is_eager:
            emails_send_chunk.delay(slot)
            return sent


@shared_task(acks_late=True, ignore_result=True, job_done="{result} emails due; senders started for them")
def emails_send_pending() -> int:
    """Beat: start senders for the emails that are due (new, or retries whose
    backoff has passed, or rows a dead sender had claimed)."""
    due = emails_due_count()
    if due:
        emails_send_soon(count=due)
    return due


def email_deliver_soon(email_id: int) -> None:
    """Hand one queued transactional email to a worker (`email_queue` calls it after
    commit). `email_deliver` has a queue of its own (CELERY_TASK_ROUTES), with workers
    of its own at scale (the Procfile's worker-transactional), so it never waits
    behind the chunk tasks of a backlog (the bulk queue), nor any other task."""
    queue_now(email_deliver, email_id)


def emails_send_soon(*, count: int) -> None:
    """After the current transaction commits, start senders for `count` messages:
    one per free sender slot, at most EMAIL_SENDERS, each going on until nothing is
    due. A slot whose sender died is free again after SENDER_HEARTBEAT_SECONDS, so
    the beat task restores the number of senders without ever adding more."""
    slots = sender_slots(count=count)

    def start() -> None:
        for slot in slots:
            if sender_slot_take(slot=slot):
                queue_now(emails_send_chunk, slot)

    transaction.on_commit(start)
