"""Bulk emails whose queuing task was lost (broker down at the commit, worker killed):
the beat job `catch-up-bulk-emails` finds them and queues them again, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from policies import catch_up
from policies.models import Announcement
from policies.services import announcement_emails_queue, statement_notices_queue

from .factories import PublishedVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The tasks the catch-up queues, by name and argument (not run)."""
    found: list[tuple[str, int]] = []

    def queue_now(task, pk) -> bool:
        found.append((task.name.rsplit(".", 1)[-1], pk))
        return True

    monkeypatch.setattr(catch_up, "queue_now", queue_now)
    return found


def later(hours: float = 2) -> timezone.datetime:
    return timezone.now() + timedelta(hours=hours)


def test_a_version_whose_notices_were_never_queued_is_queued_again_once_they_are_not(queued):
    VerifiedUserFactory(date_joined=timezone.now() - timedelta(days=30))
    version = PublishedVersionFactory(published_at=timezone.now())
    assert catch_up.statement_notices_missing(now=timezone.now()) == []  # the task may still be running
    assert catch_up.bulk_emails_catch_up(now=later()) == 1
    assert queued == [("statement_notices_queue", version.pk)]
    statement_notices_queue(version_id=version.pk)  # what the queued task does
    queued.clear()
    assert catch_up.bulk_emails_catch_up(now=later()) == 0 and queued == []


def test_an_announcement_left_unfinished_is_queued_again_and_goes_to_nobody_twice(queued):
    keen = VerifiedUserFactory(email_service_improvement=True)
    announcement = Announcement.objects.create(subject="News", body="Body", subject_fr="Nouvelles", body_fr="Corps")
    Announcement.objects.filter(pk=announcement.pk).update(sent_at=timezone.now())
    assert catch_up.bulk_emails_catch_up(now=later()) == 1
    assert queued == [("announcement_emails_queue", announcement.pk)]
    announcement_emails_queue(announcement_id=announcement.pk)
    announcement_emails_queue(announcement_id=announcement.pk)  # the catch-up raced the task: harmless
    assert OutboundEmail.objects.filter(user=keen).count() == 1
    queued.clear()
    assert catch_up.bulk_emails_catch_up(now=later()) == 0 and queued == []


def test_nothing_is_queued_again_when_nobody_is_to_be_written_to(queued):
    PublishedVersionFactory(published_at=timezone.now())
    announcement = Announcement.objects.create(subject="News", body="Body", subject_fr="Nouvelles", body_fr="Corps")
    Announcement.objects.filter(pk=announcement.pk).update(sent_at=timezone.now())
    assert catch_up.bulk_emails_catch_up(now=later()) == 0


def test_the_catch_up_runs_on_the_beat():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["catch-up-bulk-emails"]
    assert entry["task"] == "policies.tasks.bulk_emails_catch_up"
