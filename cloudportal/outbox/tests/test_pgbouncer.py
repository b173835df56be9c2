"""The outbox through PgBouncer in transaction mode: delivery works, and the sender's
faster commits stay its own."""

import psycopg
import pytest

from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import email_queue

CONTEXT = {"ip": "192.0.2.10", "user_agent": "Firefox", "timestamp": "2025-01-01 10:00"}

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(to: str) -> OutboundEmail:
    return email_queue(to=to, template="account/email/password_changed", context=CONTEXT, language="en")


@pytest.mark.pgbouncer(pool_size=1)
def test_the_senders_commit_setting_never_reaches_another_client(through_pgbouncer, smtp_server):
    """Pool size 1: every client's transactions run on the one server connection. While
    a message is on its way (marked sent, its server about to accept it), another
    client through the same PgBouncer still commits synchronously: the sender's
    `synchronous_commit = off` was its mark's transaction alone, not the session's."""
    seen = []

    def other_client(message):
        with psycopg.connect(
            host=through_pgbouncer.host,
            port=through_pgbouncer.port,
            dbname=_settings()["NAME"],
            user=_settings()["USER"] or "postgres",
            autocommit=True,
        ) as other:
            seen.append(other.execute("SHOW synchronous_commit").fetchone()[0])

    smtp_server.on_message = other_client

    for i in range(2):  # each delivered as it is queued (tasks run in-process here)
        _queue(f"user{i}@example.com")

    assert seen == ["on", "on"]
    assert len(smtp_server.wait_for(2)) == 2
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundEmail.Status.SENT}
    assert OutboundEmail.objects.filter(body_text="").count() == 2  # the mark's whole update


def _settings() -> dict:
    from django.db import connection

    return connection.settings_dict
