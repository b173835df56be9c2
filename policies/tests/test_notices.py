"""Statement notices through the outbox, against a real SMTP server (aiosmtpd):
chunks over one connection, a mail server down mid-run, racing senders, a sender
that dies mid-message, and nobody ever mailed twice."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import emails_send_chunk
from cloudportal.outbox import send as outbox_send
from cloudportal.testing.smtp import SMTPSink, free_port
from policies.services import statement_notices_queue

from .factories import PublishedVersionFactory

Status = OutboundEmail.Status


class FlakySink(SMTPSink):
    """Accepts messages until `accept_left` runs out, then refuses recipients with a
    temporary error (a mail server going down mid-run) until `accept_left` is None."""

    def __init__(self) -> None:
        super().__init__()
        self.accept_left: int | None = None
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if self.accept_left is not None:
            if self.accept_left <= 0:
                return "451 4.3.2 System not accepting network messages"
            self.accept_left -= 1
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    sink = FlakySink()
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield sink
    controller.stop()


def received_by(sink: SMTPSink) -> Counter:
    return Counter(str(m["To"]) for m in sink.received())


def notices_for(count: int, **version):
    customers = VerifiedUserFactory.create_batch(count)
    version = PublishedVersionFactory(
        material=True, changelog="Logs are now kept 6 months.", effective_at=timezone.now() + timedelta(days=31)
    )
    # Queued without sending, so that each test drives delivery itself.
    from django.test.utils import override_settings

    with override_settings(EMAIL_SENDERS=0):
        assert statement_notices_queue(version_id=version.pk) == count
    return customers, version


def make_due() -> None:
    """The backoff has passed (rather than waiting minutes)."""
    OutboundEmail.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_each_chunk_goes_over_one_connection_with_the_changelog_and_the_date(smtp, settings):
    settings.EMAIL_CHUNK_SIZE = 3
    customers, version = notices_for(7)

    results = [emails_send_chunk() for _ in range(4)]

    assert [r.sent for r in results] == [3, 3, 1, 0]
    assert smtp.sessions == 3
    assert received_by(smtp) == Counter({c.email: 1 for c in customers})
    message = smtp.received(customers[0].email)[0]
    text, html = SMTPSink.parts(message)
    with translation.override("en"):
        date = date_format(timezone.localtime(version.effective_at), "DATE_FORMAT")
    assert "Logs are now kept 6 months." in text and "Logs are now kept 6 months." in html
    assert date in text and f"version {version.version}" in text
    assert message["Subject"].endswith("please review it")


@pytest.mark.django_db
def test_a_customer_gets_the_notice_in_their_language(smtp):
    customers, _version = notices_for(1)
    customers[0].language = "fr"
    customers[0].save()
    OutboundEmail.objects.update(language="fr")
    emails_send_chunk()
    text, _html = SMTPSink.parts(smtp.received()[0])
    assert "Bonjour" in text


@pytest.mark.django_db
def test_with_the_mail_server_down_mid_run_every_notice_arrives_once_it_is_back(smtp, settings):
    settings.EMAIL_CHUNK_SIZE = 10
    customers, _version = notices_for(10)
    smtp.accept_left = 4  # the server goes down after four messages

    first = emails_send_chunk()
    assert (first.sent, first.failed) == (4, 6)
    waiting = OutboundEmail.objects.filter(status=Status.PENDING)
    assert waiting.count() == 6
    assert all(e.next_attempt_at > timezone.now() and e.attempts == 1 for e in waiting)
    assert emails_send_chunk().claimed == 0  # backing off: nothing is due yet

    smtp.accept_left = None  # back up
    make_due()
    assert emails_send_chunk().sent == 6
    make_due()
    assert emails_send_chunk().claimed == 0

    assert received_by(smtp) == Counter({c.email: 1 for c in customers})
    assert not OutboundEmail.objects.exclude(status=Status.SENT).exists()


@pytest.mark.django_db
def test_with_the_mail_server_unreachable_the_chunk_waits_and_goes_out_later(smtp, settings):
    customers, _version = notices_for(3)
    real_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there

    assert emails_send_chunk().failed == 3
    assert OutboundEmail.objects.filter(status=Status.PENDING, attempts=1).count() == 3

    settings.EMAIL_PORT = real_port
    make_due()
    assert emails_send_chunk().sent == 3
    assert received_by(smtp) == Counter({c.email: 1 for c in customers})


class SenderDied(BaseException):
    """Stands for SIGKILL: nothing after it runs in the sender (not an Exception)."""


@pytest.mark.django_db
def test_a_sender_dying_before_its_mark_leaves_no_message_and_the_next_sends_it_once(smtp, settings, monkeypatch):
    settings.EMAIL_CHUNK_SIZE = 5
    customers, _version = notices_for(5)
    real_mark = outbox_send._mark_sent
    calls = {"n": 0}

    def mark_then_die(*, email_id, token, then=None):
        calls["n"] += 1
        if calls["n"] == 3:  # dies with the third message written up to its final "."
            raise SenderDied
        return real_mark(email_id=email_id, token=token, then=then)

    monkeypatch.setattr(outbox_send, "_mark_sent", mark_then_die)
    with pytest.raises(SenderDied):
        emails_send_chunk()
    monkeypatch.setattr(outbox_send, "_mark_sent", real_mark)

    # Two went out; the third never ended, so the server dropped it.
    assert sum(received_by(smtp).values()) == 2
    # The dead sender's claim holds its rows until it expires.
    assert emails_send_chunk().claimed == 0
    OutboundEmail.objects.filter(status=Status.PENDING).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert emails_send_chunk().sent == 3
    smtp.wait_for(5)
    assert received_by(smtp) == Counter({c.email: 1 for c in customers})


@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_send_nothing_twice(smtp, settings):
    settings.EMAIL_CHUNK_SIZE = 5
    customers, _version = notices_for(60)
    barrier = threading.Barrier(3)
    sent = Counter()

    def sender(name: str) -> None:
        from django.db import connection

        barrier.wait()
        try:
            while (result := emails_send_chunk()).claimed:
                sent[name] += result.sent
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(sent.values()) == 60
    assert len([n for n in sent.values() if n]) >= 2, sent  # they really shared the work
    smtp.wait_for(60)
    assert received_by(smtp) == Counter({c.email: 1 for c in customers})


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_another_sender_racing_send_nothing_twice(celery_worker, smtp_server, settings):
    """The Celery worker process drains the backlog in its chunks while this process
    sends chunks of its own from the same outbox."""
    settings.EMAIL_CHUNK_SIZE = 10
    customers = VerifiedUserFactory.create_batch(600)
    version = PublishedVersionFactory(material=True, effective_at=timezone.now() + timedelta(days=31))
    assert statement_notices_queue(version_id=version.pk) == 600  # starts the worker's senders

    mine = 0
    while (result := emails_send_chunk()).claimed:
        mine += result.sent

    smtp_server.wait_for(600, timeout=60)
    time.sleep(1)
    assert received_by(smtp_server) == Counter({c.email: 1 for c in customers})
    assert 0 < mine < 600
    assert celery_worker.stats_total().get("cloudportal.outbox.tasks.emails_send_chunk", 0) >= 1
    assert OutboundEmail.objects.filter(status=Status.SENT).count() == 600
