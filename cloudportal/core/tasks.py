from celery import shared_task

from .emails import email_deliver_now, emails_due


@shared_task(acks_late=True, ignore_result=True)
def email_deliver(email_id: int) -> bool:
    """Idempotent: a sent or locked email is skipped. Failures are retried with
    backoff by `emails_send_pending`, not by Celery, so the row stays the truth."""
    return email_deliver_now(email_id=email_id)


@shared_task(acks_late=True, ignore_result=True)
def emails_send_pending() -> int:
    ids = emails_due()
    for email_id in ids:
        email_deliver.delay(email_id)
    return len(ids)
