from celery import shared_task

from .sweep import retention_sweep as sweep


@shared_task(acks_late=True, ignore_result=True, job_done="retention sweep #{result} done (admin: Retention sweeps)")
def retention_sweep() -> int:
    """The daily retention sweep. Safe to run twice or at once: runs are serialised by
    an advisory lock and a second run finds nothing left to erase. Returns the run's id."""
    return sweep().pk
