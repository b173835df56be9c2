from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(Exception,), retry_backoff=60, max_retries=5)
def account_erase(request_id: int) -> bool:
    """Erase one account whose grace period is over. Idempotent: a cancelled,
    erased or not-yet-due request is left alone. Retried with backoff on any error:
    the transaction rolled back, so nothing is half-erased."""
    return services.account_erase(request_id=request_id) is not None


@shared_task(acks_late=True, ignore_result=True, job_done="erasure of {result} accounts queued")
def erasures_due_queue() -> int:
    """Beat: queue the erasure of every account whose grace period has ended."""
    ids = services.erasures_due()
    for request_id in ids:
        account_erase.delay(request_id)
    return len(ids)
