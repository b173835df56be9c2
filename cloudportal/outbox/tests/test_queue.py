"""The email outbox: a row first, handed to a worker only once the transaction commits."""

import socket
import time

import pytest
from django.db import transaction
from django.utils import timezone

from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import email_deliver, email_queue

DELIVER_TASK = "cloudportal.outbox.tasks.email_deliver"
CONTEXT = {"ip": "192.0.2.10", "user_agent": "Firefox", "timestamp": "2025-01-01 10:00"}


def queue_password_notice(to: str) -> OutboundEmail:
    return email_queue(to=to, template="account/email/password_changed", context=CONTEXT, language="en")


class Rollback(Exception):
    pass


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_email_goes_to_the_worker_only_after_commit(celery_worker, smtp_server, settings):
    with transaction.atomic():
        queued = queue_password_notice("ada@example.com")
        time.sleep(2)
        assert celery_worker.stats_total() == {}
        assert smtp_server.messages == []

    [message] = smtp_server.wait_for(1, timeout=15, to="ada@example.com")
    assert message["Subject"] == f"[{settings.OPERATOR_NAME}] Password Changed"
    text, html = smtp_server.parts(message)
    assert "Your password has been changed." in text
    assert html is not None
    assert celery_worker.wait_for_tasks(DELIVER_TASK) == {DELIVER_TASK: 1}
    queued.refresh_from_db()
    assert queued.status == OutboundEmail.Status.SENT


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_rolled_back_email_is_never_queued_nor_sent(celery_worker, smtp_server):
    with pytest.raises(Rollback), transaction.atomic():
        queue_password_notice("grace@example.com")
        raise Rollback

    time.sleep(3)
    assert smtp_server.messages == []
    assert celery_worker.stats_total() == {}
    assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_delivering_the_same_email_twice_sends_it_once(smtp_server):
    queued = queue_password_notice("alan@example.com")

    assert email_deliver(email_id=queued.pk) is True
    assert email_deliver(email_id=queued.pk) is False

    [message] = smtp_server.wait_for(1, to="alan@example.com")
    text, html = smtp_server.parts(message)
    assert "Your password has been changed." in text
    assert "Your password has been changed." in html
    assert len(smtp_server.messages) == 1
    queued.refresh_from_db()
    assert queued.status == OutboundEmail.Status.SENT
    assert queued.attempts == 1
    assert queued.sent_at is not None
    # One-time links must not outlive delivery.
    assert queued.body_text == ""
    assert queued.body_html == ""


@pytest.mark.django_db
def test_mail_server_down_keeps_the_email_pending_for_a_retry(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port
    settings.EMAIL_USE_TLS = False
    queued = queue_password_notice("edsger@example.com")

    assert email_deliver(email_id=queued.pk) is False

    queued.refresh_from_db()
    assert queued.status == OutboundEmail.Status.PENDING
    assert queued.attempts == 1
    assert queued.next_attempt_at > timezone.now()
    assert queued.last_error
    assert "Your password has been changed." in queued.body_text
