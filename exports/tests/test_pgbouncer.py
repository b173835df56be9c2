"""A whole export built through PgBouncer in transaction mode: its two connections
share one snapshot, each transaction holding its own server connection."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from accesslogs.services import collector_create
from accesslogs.tests.factories import sessions_record
from accounts.tests.factories import VerifiedUserFactory
from devices.services import device_add
from exports.models import DataExport
from exports.services import export_path, export_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_export_through_pgbouncer_holds_every_session_in_both_files(through_pgbouncer, mailoutbox):
    user = VerifiedUserFactory()
    device = device_add(user=user, mac="02:00:00:00:AA:01", label="Phone")
    collector, _token = collector_create(name="Through the pooler")
    now = timezone.now()
    rows = [{"mac": device.mac, "site": f"Site {n}", "started_at": now - timedelta(hours=n + 2)} for n in range(40)]
    sessions_record(collector, rows)

    export = export_request(user=user)  # built by the task as the request commits (in-process here)

    export.refresh_from_db()
    assert export.status == DataExport.Status.READY, export.status
    with zipfile.ZipFile(export_path(export)) as zf:
        data = json.loads(zf.read("data.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("access_logs.csv").decode())))
    part = data["categories"]["access_logs"]
    assert part["count"] == 40 == len(rows)
    records = [dict(zip(part["columns"], r, strict=True)) for r in part["records"]]
    assert [r["site"] for r in records] == [r["site"] for r in rows] == [f"Site {n}" for n in reversed(range(40))]
    assert any("Your data export is ready" in m.subject for m in mailoutbox)
