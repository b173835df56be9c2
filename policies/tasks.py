from celery import shared_task

from . import services

#: Queuing is idempotent (a dedup key per customer), so a failure is simply retried.
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 30, "retry_backoff_max": 30 * 60, "max_retries": 12}


@shared_task(acks_late=True, ignore_result=True, **RETRY)
def statement_notices_queue(version_id: int) -> int:
    """Idempotent: a notice already queued for a customer and version is kept as is."""
    return services.statement_notices_queue(version_id=version_id)


@shared_task(acks_late=True, ignore_result=True, job_done="statement version in force: #{result}")
def statements_switch_over() -> int | None:
    """Beat: make the version whose effective date has come the one in force everywhere."""
    return services.statements_switch_over()


@shared_task(acks_late=True, ignore_result=True, **RETRY)
def announcement_emails_queue(announcement_id: int) -> int:
    """Idempotent: each customer's email has a dedup key."""
    return services.announcement_emails_queue(announcement_id=announcement_id)


@shared_task(acks_late=True, ignore_result=True, job_done="{result} bulk email tasks queued again")
def bulk_emails_catch_up() -> int:
    """Beat: queue again the statement notices and announcements whose task was lost."""
    from .catch_up import bulk_emails_catch_up as catch_up

    return catch_up()
