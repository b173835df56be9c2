"""Ingest and /logs/'s CSV through PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer:
no server-side cursor)."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesslogs import views
from accesslogs.ingest import check
from accesslogs.models import DailyUsage, IngestBatch, NetworkSession
from accesslogs.services import collector_create
from accesslogs.tests.factories import CollectorFactory, sessions_csv, sessions_record
from accounts.tests.factories import VerifiedUserFactory
from devices.models import Device
from devices.tests.factories import DeviceFactory

from .test_ingest import URL, session

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "00:1A:2B:00:0A:01"


def test_the_csv_streams_in_pages_through_pgbouncer(through_pgbouncer, client, monkeypatch):
    """Every row, newest first, read in pages of CSV_CHUNK_ROWS by keyset (sessions
    sharing a start time cross the pages' edges), never the whole set at once."""
    monkeypatch.setattr(views, "CSV_CHUNK_ROWS", 25)
    customer = VerifiedUserFactory()
    client.force_login(customer)
    DeviceFactory(user=customer, mac=PHONE, label="Phone")
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    # 60 sessions, seven at a time starting in the same second.
    rows = [{"mac": PHONE, "started_at": start + timedelta(minutes=n // 7), "bytes_in": 1000 + n} for n in range(60)]
    for row in rows:
        row["ended_at"] = row["started_at"] + timedelta(seconds=30)
    sessions_record(CollectorFactory(), rows)
    expected = list(
        NetworkSession.objects.filter(mac=PHONE).order_by("-started_at", "-id").values_list("bytes_in", flat=True)
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("logs:csv"))
        lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert response.status_code == 200
    assert len(lines) == 61
    assert [int(line[8]) for line in lines[1:]] == expected  # each once, in order
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "accesslogs_networksession"' in q["sql"]]
    assert len(reads) == 3, reads  # 25 + 25 + 10 rows
    assert all("LIMIT 25" in sql for sql in reads)


def test_ingest_through_pgbouncer_stores_each_session_once(through_pgbouncer, client, monkeypatch):
    """Batches of two collectors at once, and a replay, through PgBouncer: each batch's
    advisory lock is its transaction's, the replay stores nothing twice, the rollup
    counts each session once."""
    monkeypatch.setattr(check, "CHUNK_ROWS", 3)
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac="02:00:00:00:00:01")
    tokens = [collector_create(name=f"gdl-{n}")[1] for n in range(2)]
    batch = sessions_csv([session(n) for n in range(7)])
    answers, errors = [], []

    def post(token):
        from django.test import Client

        try:
            answers.append(
                Client().post(URL, batch, content_type="text/csv", headers={"Authorization": f"Bearer {token}"}).json()
            )
        except Exception as exc:  # noqa: BLE001 - the test reports any exception
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    replay = client.post(URL, batch, content_type="text/csv", headers={"Authorization": f"Bearer {tokens[0]}"})

    assert errors == []
    assert answers == [{"accepted": 7, "duplicates": 0}] * 2
    assert replay.json() == {"accepted": 0, "duplicates": 7}
    assert NetworkSession.objects.count() == 14  # the same ids from two collectors are two sessions each
    assert IngestBatch.objects.filter(rolled_up_at__isnull=False).count() == 2
    assert sum(DailyUsage.objects.filter(user=owner).values_list("sessions", flat=True)) == 14
