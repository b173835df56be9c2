"""`python manage.py run_job NAME`: an operator runs a job of the beat schedule now
and is told what it did; `--list` names them."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.outbox import queue
from erasure.models import ErasureRequest
from erasure.services import account_delete_request

pytestmark = pytest.mark.django_db


def run_job(*args: str) -> str:
    out = StringIO()
    call_command("run_job", *args, stdout=out)
    return out.getvalue()


def test_the_list_names_every_beat_entry_its_schedule_and_task(settings):
    listed = run_job("--list")

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        line = next(line for line in listed.splitlines() if line.startswith(name + " "))
        assert entry["task"] in line
    assert "every 5.00 minutes" in listed and "crontab 15 3 * * *" in listed


def test_running_the_erasure_job_erases_the_accounts_whose_grace_period_ended_and_says_so(
    settings, django_capture_on_commit_callbacks
):
    settings.ERASURE_GRACE_HOURS = 24
    due, waiting = VerifiedUserFactory(), VerifiedUserFactory()
    asked = account_delete_request(user=due)
    ErasureRequest.objects.filter(pk=asked.pk).update(erase_after=timezone.now() - timezone.timedelta(minutes=1))
    account_delete_request(user=waiting)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out = run_job("run-due-account-erasures")

    assert "run-due-account-erasures: done in" in out and "erasure of 1 accounts queued" in out
    assert not User.objects.filter(pk=due.pk).exists()
    assert User.objects.filter(pk=waiting.pk, is_active=False).exists()
    assert [m.subject for m in mail.outbox if "erased" in m.subject]  # the receipt (tasks run in-process here)


def test_running_the_email_job_sends_what_is_due(django_capture_on_commit_callbacks):
    # Queued while the broker was down: its hand-off never happened.
    queue.email_queue(
        to="ada@example.com",
        template="account/email/password_changed",
        context={"ip": "192.0.2.10", "user_agent": "Firefox", "timestamp": "2025-01-01 10:00"},
        language="en",
        deliver=lambda _id: None,
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out = run_job("send-pending-emails")

    assert "1 emails due; senders started for them" in out
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_an_unknown_job_or_none_is_refused_with_the_names():
    with pytest.raises(CommandError, match="No job named 'nope'; the jobs are: send-pending-emails, "):
        run_job("nope")
    with pytest.raises(CommandError, match="Name a job"):
        run_job()


def test_a_failing_job_says_why_and_fails_the_command(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "cloudportal.outbox.tasks.email_deliver", "schedule": 60.0, "args": ["not-an-id"]}
    }
    with pytest.raises(CommandError, match=r"broken failed: ValueError"):
        run_job("broken")
