"""PostgreSQL cut off during an ingest batch (marker `faults`): a real portal server
(`manage.py runserver`) whose database connection goes through a TCP proxy, which
the test cuts while a batch's rows are written and not yet committed."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from accesslogs.models import IngestBatch, NetworkSession
from accesslogs.services import collector_create
from accesslogs.tests.factories import session_row, sessions_csv

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PAUSE = "ingest.rows_written"


def _post(url: str, token: str, body: bytes) -> tuple[int, dict, dict]:
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{url}/api/ingest/sessions",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read()
        return (
            error.code,
            dict(error.headers),
            (json.loads(text) if error.headers.get_content_type() == "application/json" else {}),
        )


def test_a_batch_cut_off_from_postgresql_stores_nothing_and_the_collectors_retry_is_stored_once(faults, portal_server):
    collector, token = collector_create(name="Faults")
    body = sessions_csv([session_row(session_id=f"cut-{i}", mac=f"02:00:00:00:01:{i:02X}") for i in range(50)])
    faults.pauses.hold(PAUSE)
    answer: list = []
    sending = threading.Thread(target=lambda: answer.append(_post(portal_server.url, token, body)))
    sending.start()
    faults.pauses.wait_reached(PAUSE)  # every row copied, the transaction still open
    portal_server.proxy.cut()  # as a PostgreSQL restart does to its clients
    faults.pauses.release(PAUSE)
    sending.join(timeout=30)

    [(status, headers, data)] = answer
    assert status == 503 and headers.get("Retry-After"), (status, data)  # the collector keeps the batch
    assert data["errors"][0]["message"]
    assert not NetworkSession.objects.filter(collector=collector).exists()  # all or nothing
    assert not IngestBatch.objects.filter(collector=collector).exists()

    portal_server.proxy.restore()
    status, _headers, data = _post(portal_server.url, token, body)  # the collector's retry
    assert (status, data) == (200, {"accepted": 50, "duplicates": 0})
    stored = NetworkSession.objects.filter(collector=collector)
    assert stored.count() == 50 == stored.values("session_id").distinct().count()
    assert IngestBatch.objects.filter(collector=collector).count() == 1

    status, _headers, data = _post(portal_server.url, token, body)  # sent once more: nothing twice
    assert (status, data) == (200, {"accepted": 0, "duplicates": 50})
    assert stored.count() == 50
