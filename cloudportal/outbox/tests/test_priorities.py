"""Transactional emails before bulk mail: a verification, a password reset or an
erasure receipt queued behind a statement notice to every customer goes out first,
whatever the backlog, and claims still read only the rows they take."""

import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import emails_claim, emails_send_chunk, queue
from cloudportal.outbox import send as outbox_send
from cloudportal.testing.smtp import SMTPSink, free_port
from policies.services import statement_notices_queue
from policies.tests.factories import PublishedVersionFactory

Status = OutboundEmail.Status
CONTEXT = {"ip": "192.0.2.10", "user_agent": "Firefox", "timestamp": "2025-01-01 10:00"}
PASSWORD_CHANGED = "account/email/password_changed"


def customers_insert(count: int, *, domain: str = "backlog.test") -> None:
    """`count` active customers with a verified address, by SQL (a factory would take
    minutes for 100,000)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, email, is_active, is_staff, date_joined, language,
                                       email_deletion_notices, email_service_improvement)
            SELECT '!', false, 'c' || g || '@' || %s, true, false, now(), 'en', true, false
            FROM generate_series(1, %s) AS g
            """,
            [domain, count],
        )
        cursor.execute(
            'INSERT INTO account_emailaddress (user_id, email, verified, "primary") '
            "SELECT id, email, true, true FROM accounts_user WHERE email LIKE %s",
            [f"%@{domain}"],
        )


def notices_pending(count: int, *, senders: int = 0) -> int:
    """A statement notice to `count` customers, queued as publishing queues it; with
    `senders` 0 nobody starts sending them."""
    customers_insert(count)
    version = PublishedVersionFactory(material=True, changelog="Logs are now kept 6 months.")
    with override_settings(EMAIL_SENDERS=senders):
        return statement_notices_queue(version_id=version.pk)


def queue_password_notice(to: str) -> OutboundEmail:
    from cloudportal.outbox import email_queue

    return email_queue(to=to, template=PASSWORD_CHANGED, context=CONTEXT, language="en")


def transactional_lost_hand_off(to: str) -> OutboundEmail:
    """A transactional email whose hand-off to a worker never happened (the broker was
    down at the commit): only the senders' claims can find it."""
    return queue.email_queue(to=to, template=PASSWORD_CHANGED, context=CONTEXT, language="en", deliver=lambda _id: None)


@pytest.mark.django_db
def test_a_claim_takes_transactional_emails_before_any_bulk_mail(settings):
    notices_pending(6)
    retry = transactional_lost_hand_off("retry@example.com")
    fresh = transactional_lost_hand_off("fresh@example.com")
    now = timezone.now()
    # The retry failed once and its backoff has just passed; a dead sender's bulk claim expired.
    OutboundEmail.objects.filter(pk=retry.pk).update(attempts=1, next_attempt_at=now - timedelta(seconds=1))
    dead = OutboundEmail.objects.filter(template="emails/statement_changed").order_by("pk").first()
    OutboundEmail.objects.filter(pk=dead.pk).update(claim="dead", claimed_until=now - timedelta(seconds=1))

    _token, first, _until = emails_claim(limit=3)

    assert first[:2] == [retry.pk, fresh.pk]
    assert first[2] == dead.pk  # then bulk: expired claims first, as before
    _token, rest, _until = emails_claim(limit=10)
    assert len(rest) == 5 and not set(rest) & {retry.pk, fresh.pk}


@pytest.mark.django_db
def test_announcements_and_mass_mailings_are_bulk_everything_else_is_transactional(
    monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.tests.factories import VerifiedUserFactory
    from cloudportal.outbox import tasks
    from policies.models import Announcement
    from policies.services import announcement_emails_queue

    delivered, senders = [], []
    monkeypatch.setattr(tasks.email_deliver, "delay", delivered.append)
    monkeypatch.setattr(tasks.emails_send_chunk, "delay", senders.append)
    notices_pending(2)
    VerifiedUserFactory(email="opted-in@example.com", email_service_improvement=True)
    announcement = Announcement.objects.create(subject="Faster Wi-Fi", body="We doubled the speed.")
    with django_capture_on_commit_callbacks(execute=True):
        announcement_emails_queue(announcement_id=announcement.pk)
        transactional = queue_password_notice("ada@example.com")

    priorities = dict(OutboundEmail.objects.values_list("to", "priority"))
    assert priorities == {
        "c1@backlog.test": OutboundEmail.Priority.BULK,
        "c2@backlog.test": OutboundEmail.Priority.BULK,
        "opted-in@example.com": OutboundEmail.Priority.BULK,
        "ada@example.com": OutboundEmail.Priority.TRANSACTIONAL,
    }
    # Only the transactional email is handed to a worker; bulk mail starts senders.
    assert delivered == [transactional.pk] and senders == [0]


def test_a_transactional_email_has_a_worker_queue_of_its_own_that_every_worker_consumes():
    from cloudportal.celery import app

    route = app.amqp.router.route({}, "cloudportal.outbox.tasks.email_deliver")
    assert route["queue"].name == "transactional"
    assert app.amqp.router.route({}, "cloudportal.outbox.tasks.emails_send_chunk")["queue"].name == "bulk"
    # A worker started without -Q consumes every queue declared.
    assert {"transactional", "bulk", "celery"} <= set(app.amqp.queues.consume_from)


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.django_db
def test_a_claim_reads_only_the_rows_it_takes_behind_a_backlog(settings):
    """EXPLAIN ANALYZE of each SELECT a claim runs, with 20,000 notices pending and a few
    transactional emails: every one is an index scan that reads no row it does not take."""
    notices_pending(20_000)
    for i in range(3):
        transactional_lost_hand_off(f"t{i}@example.com")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_outboundemail")

    with CaptureQueriesContext(connection) as queries:
        _token, claimed, _until = emails_claim(limit=200)
    assert len(claimed) == 200

    selects = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert selects
    for sql in selects:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]["Plan"]
        kinds = {node["Node Type"] for node in nodes(plan)}
        assert "Seq Scan" not in kinds and "Sort" not in kinds, (sql, kinds)
        scans = [node for node in nodes(plan) if node["Node Type"] in ("Index Scan", "Index Only Scan")]
        assert scans, (sql, kinds)
        for scan in scans:
            assert scan["Index Name"] in ("email_due_idx", "email_claimed_idx"), scan["Index Name"]
            assert scan.get("Rows Removed by Filter", 0) == 0, (sql, scan)
            assert scan["Actual Rows"] <= 200, (sql, scan)


class QueueingSink(SMTPSink):
    """Once `after` messages have arrived, a transactional email is queued (in a
    thread of its own: another connection, committed before the server answers)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received()) == self.after:
            thread = threading.Thread(target=self._queue)
            thread.start()
            thread.join()
        return answer

    def _queue(self) -> None:
        try:
            transactional_lost_hand_off("urgent@example.com")
        finally:
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_sender_busy_on_bulk_mail_sends_a_transactional_email_next_not_after_its_chunk(settings, monkeypatch):
    sink = QueueingSink(after=3)
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_CHUNK_SIZE = 10
    monkeypatch.setattr(outbox_send, "TRANSACTIONAL_CHECK_SECONDS", 0)  # look before every message
    try:
        notices_pending(10)
        result = emails_send_chunk()
    finally:
        controller.stop()

    order = [str(m["To"]) for m in sink.received()]
    assert result.sent == 11 and len(order) == 11
    assert order.index("urgent@example.com") == 3  # the next message, not the eleventh
    assert not OutboundEmail.objects.filter(status=Status.PENDING).exists()


# --- With a real worker and a real SMTP server ---------------------------------------


def backlog_under_way(smtp_server, count: int) -> int:
    """100,000 pending notices, the worker's senders busy on them."""
    queued = notices_pending(count, senders=2)
    smtp_server.wait_for(50, timeout=60)  # the senders are at work
    return queued


def backlog_stop() -> int:
    """Give up what is left of the backlog, so the worker goes idle for the next test."""
    return OutboundEmail.objects.filter(status=Status.PENDING, to__endswith="@backlog.test").update(
        status=Status.FAILED
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_verification_email_queued_behind_100000_notices_arrives_within_5_seconds(
    celery_worker, smtp_server, client, settings
):
    assert backlog_under_way(smtp_server, 100_000) == 100_000
    try:
        started = time.monotonic()
        client.post(
            reverse("account_signup"),
            {
                "email": "newcomer@example.com",
                "password1": "a-long-passphrase-1",
                "password2": "a-long-passphrase-1",
                "accept_statement": "on",
            },
        )
        [message] = smtp_server.wait_for(1, timeout=5, to="newcomer@example.com")
        elapsed = time.monotonic() - started
    finally:
        left = backlog_stop()
    text, _html = smtp_server.parts(message)
    assert "/accounts/confirm-email/" in text
    assert elapsed < 5
    assert left > 90_000  # the backlog was still there: the email did not wait for it


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_transactional_email_left_to_the_senders_goes_out_with_their_next_chunk(celery_worker, smtp_server):
    """Its hand-off lost (or a retry whose backoff passed): the senders busy on 100,000
    notices take it with their next chunk, not after the backlog."""
    backlog_under_way(smtp_server, 100_000)
    try:
        transactional_lost_hand_off("reset@example.com")
        smtp_server.wait_for(1, timeout=5, to="reset@example.com")
    finally:
        left = backlog_stop()
    assert left > 90_000
