from celery import shared_task

from . import data_requests


@shared_task(acks_late=True, ignore_result=True, job_done="staff reminded of {result} data requests")
def data_requests_remind() -> int:
    """Daily: remind staff of data requests due soon or overdue. Safe to run twice:
    a request is reminded about at most once a day."""
    return data_requests.data_requests_remind()
