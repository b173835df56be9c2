from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def export_build(export_id: int) -> bool:
    """Build one export. Idempotent: a ready, failed or expired export is left alone.
    A failure marks the export failed (the customer sees it and may ask again); it is
    not retried, since what failed once (a full disk) would fail again at once."""
    return services.export_build(export_id=export_id) is not None


@shared_task(acks_late=True, ignore_result=True, job_done="{result} exports queued again")
def exports_catch_up() -> int:
    """Beat: queue the exports whose task was lost (broker down, worker killed)."""
    return services.exports_catch_up()


@shared_task(acks_late=True, ignore_result=True, job_done="{result} expired exports deleted")
def exports_expire() -> int:
    """Beat: delete the files of exports past their download window."""
    return services.exports_expire()
