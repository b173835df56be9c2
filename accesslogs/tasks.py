from celery import shared_task

from .partitions import partitions_ensure, partitions_window


@shared_task(acks_late=True, ignore_result=True)
def partitions_create_ahead() -> list[str]:
    """Create the monthly session partitions of the window around today. Idempotent:
    existing partitions are left alone, and two runs at once both end with them there
    (CREATE TABLE IF NOT EXISTS)."""
    return partitions_ensure(partitions_window())
