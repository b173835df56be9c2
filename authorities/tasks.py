from celery import shared_task

from . import package


@shared_task(acks_late=True, ignore_result=True)
def disclosure_package_build(package_id: int) -> bool:
    """Build one disclosure package. Idempotent: a ready, failed or expired package is
    left alone. A failure marks it failed (an officer may ask again); not retried."""
    return package.disclosure_package_build(package_id=package_id) is not None


@shared_task(acks_late=True, ignore_result=True, job_done="{result} expired disclosure packages deleted")
def disclosure_packages_expire() -> int:
    """Beat: delete the files of disclosure packages past their download window."""
    return package.disclosure_packages_expire()


@shared_task(acks_late=True, ignore_result=True, job_done="{result} disclosure packages queued again")
def disclosure_packages_catch_up() -> int:
    """Beat: queue again the packages whose build task was lost."""
    return package.disclosure_packages_catch_up()
