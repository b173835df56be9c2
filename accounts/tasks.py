from celery import shared_task

from .services import data_requests_remind_staff


@shared_task(acks_late=True, ignore_result=True)
def data_requests_remind() -> int:
    """Daily: remind staff of data requests due soon or overdue. Safe to run twice:
    a request is reminded about at most once a day."""
    return data_requests_remind_staff()
