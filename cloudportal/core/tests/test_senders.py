"""Senders of a backlog: the beat starts up to EMAIL_SENDERS, restores one that died,
and never adds more while they are alive."""

import pytest
from django.core.cache import cache

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core import tasks
from cloudportal.core.emails import emails_queue_bulk

pytestmark = pytest.mark.django_db


def test_the_beat_restores_a_dead_sender_without_ever_adding_more(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_SENDERS, settings.EMAIL_CHUNK_SIZE = 3, 2
    started: list[int] = []
    monkeypatch.setattr(tasks.emails_send_chunk, "delay", lambda slot=0: started.append(slot))
    VerifiedUserFactory.create_batch(10)

    with django_capture_on_commit_callbacks(execute=True):
        stored = emails_queue_bulk(
            recipients=User.objects.all(),
            template="emails/deletion_notice",
            context={"category": "devices", "fields": ["label"]},
            dedup_prefix="test:",
        )
    assert stored == 10 and started == [0, 1, 2]

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.emails_send_pending() == 10
    assert started == [0, 1, 2]  # all three alive: nothing added

    cache.delete("outbox:sender:1")  # its heartbeat expired: that sender died
    with django_capture_on_commit_callbacks(execute=True):
        tasks.emails_send_pending()
    assert started == [0, 1, 2, 1]
