from celery import shared_task
from django.db import OperationalError

from . import rollup


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=8)
def batch_roll_up(batch_id: int) -> bool:
    """Add a stored ingest batch to the daily usage; a batch already added is left alone."""
    return rollup.batch_roll_up(batch_id=batch_id)


@shared_task(acks_late=True, ignore_result=True, job_done="{result} ingest batches rolled up")
def batches_catch_up() -> int:
    """Roll up the batches whose task never ran (beat, every few minutes)."""
    return rollup.batches_catch_up()
