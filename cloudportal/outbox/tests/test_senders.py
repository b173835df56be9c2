"""Senders of a backlog: the beat starts up to EMAIL_SENDERS, restores one that died,
and never adds more while they are alive."""

import pytest
from django.core.cache import cache

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.outbox import emails_queue_bulk, tasks

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


def test_a_claim_takes_expired_claims_first_then_due_rows_and_never_live_claims(settings, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from cloudportal.core.models import OutboundEmail
    from cloudportal.outbox import emails_claim, emails_due_count

    monkeypatch.setattr(tasks.emails_send_chunk, "delay", lambda slot=0: None)
    VerifiedUserFactory.create_batch(6)
    emails_queue_bulk(
        recipients=User.objects.order_by("pk"),
        template="emails/deletion_notice",
        context={"category": "devices", "fields": ["label"]},
        dedup_prefix="claims:",
    )
    rows = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    OutboundEmail.objects.filter(pk=rows[0]).update(claim="dead", claimed_until=now - timedelta(seconds=1))
    OutboundEmail.objects.filter(pk=rows[1]).update(claim="alive", claimed_until=now + timedelta(minutes=5))
    OutboundEmail.objects.filter(pk=rows[2]).update(status=OutboundEmail.Status.SENT)
    OutboundEmail.objects.filter(pk=rows[3]).update(next_attempt_at=now + timedelta(minutes=5))  # backing off
    assert emails_due_count() == 3  # the expired claim and the two due rows

    _token, first, _until = emails_claim(limit=2)
    assert first[0] == rows[0] and first[1] in rows[4:]
    _token, second, _until = emails_claim(limit=5)
    assert second == [r for r in rows[4:] if r not in first]
    assert emails_claim(limit=5)[1] == [] and emails_due_count() == 0
