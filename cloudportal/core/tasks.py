from celery import shared_task
from django.conf import settings

from .emails import (
    email_deliver_now,
    emails_deliver_chunk,
    emails_due_count,
    emails_send_soon,
    sender_alive,
    sender_done,
)


@shared_task(acks_late=True, ignore_result=True)
def email_deliver(email_id: int) -> bool:
    """Idempotent: a sent or claimed email is skipped. Failures are retried with
    backoff by `emails_send_pending`, not by Celery, so the row stays the truth."""
    return email_deliver_now(email_id=email_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def emails_send_chunk(self, slot: int = 0) -> int:
    """Send one chunk of due emails over one connection; while chunks come back
    full, queue the next one in the same sender slot, so EMAIL_SENDERS senders drain
    a backlog side by side. Run in-process (embedded mode), it loops instead."""
    sent = 0
    while True:
        sender_alive(slot=slot)
        result = emails_deliver_chunk()
        sent += result.sent
        if result.claimed < settings.EMAIL_CHUNK_SIZE:
            sender_done(slot=slot)
            return sent
        if not self.request.is_eager:
            emails_send_chunk.delay(slot)
            return sent


@shared_task(acks_late=True, ignore_result=True)
def emails_send_pending() -> int:
    """Beat: start senders for the emails that are due (new, or retries whose
    backoff has passed, or rows a dead sender had claimed)."""
    due = emails_due_count()
    if due:
        emails_send_soon(count=due)
    return due
