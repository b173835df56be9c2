"""The columnar (Arrow) path of CSV ingest stores exactly what the row-by-row path
stores, and hands anything it is not sure of to the row-by-row path."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accesslogs import ingest
from accesslogs.ingest import IngestError, rewinding, sessions_ingest
from accesslogs.models import NetworkSession
from accounts.tests.factories import VerifiedUserFactory
from devices.models import Device

from .factories import CollectorFactory, session_row, sessions_csv

pytestmark = pytest.mark.django_db

OWNED = "02:00:00:00:00:31"


def varied_rows() -> list[dict]:
    """Good rows in every spelling the protocol allows."""
    now = timezone.now().replace(microsecond=0)
    paris = timezone.get_fixed_timezone(60)
    return [
        session_row(session_id="a-1", mac=OWNED, ip="192.0.2.1"),
        session_row(session_id='a-7,"x"', mac=OWNED),  # needs quotes in CSV
        session_row(session_id="a-2", mac="02-00-00-00-00-31", ip="2001:DB8:0:0::1"),
        session_row(session_id="a-3", mac="0200.0000.0032", ip="::ffff:192.0.2.5"),
        session_row(session_id="a-4", mac="020000000033", site='Gare, quai "A"', site_address=""),
        session_row(
            session_id="a-5",
            mac="02:00:00:00:00:34",
            started_at=(now - timedelta(days=40)).astimezone(paris),
            ended_at=(now - timedelta(days=40) + timedelta(seconds=1.5)).astimezone(paris),
            bytes_in="0",
            bytes_out="007",
        ),
        session_row(
            session_id="a-6",
            mac="02:00:00:00:00:35",
            started_at=f"{now - timedelta(hours=3):%Y-%m-%dT%H:%M:%S}Z",
            ended_at=f"{now - timedelta(hours=2):%Y-%m-%dT%H:%M:%S}.250Z",
        ),
    ]


def stored() -> list[tuple]:
    return list(
        NetworkSession.objects.order_by("session_id").values_list(
            "session_id",
            "subscriber__user_id",
            "mac",
            "ip",
            "site__name",
            "site__address",
            "started_at",
            "ended_at",
            "bytes_in",
            "bytes_out",
        )  # fmt: skip
    )


def record(body: bytes, collector=None):
    return sessions_ingest(collector=collector or CollectorFactory(), source=rewinding(io.BytesIO(body)), fmt="csv")


@pytest.fixture
def row_by_row():
    def refuse(*args, **kwargs):
        raise AssertionError("the row-by-row path was used")

    return refuse


def test_a_varied_batch_is_stored_alike_by_both_paths(monkeypatch, row_by_row):
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac=OWNED)
    body = sessions_csv(varied_rows())

    with monkeypatch.context() as patched:
        patched.setattr(ingest, "parse_chunks", row_by_row)  # only the columnar path may run
        assert record(body).accepted == 7
    columnar = stored()
    NetworkSession.objects.all().delete()
    with monkeypatch.context() as patched:
        patched.setattr(ingest.columnar, "_arrow", lambda: False)  # as without Arrow: row by row
        assert record(body).accepted == 7
    assert stored() == columnar
    by_id = {row[0]: row for row in columnar}
    assert by_id["a-2"][1:4] == (owner.pk, OWNED, "2001:db8::1")
    assert by_id["a-3"][2:4] == ("02:00:00:00:00:32", "::ffff:192.0.2.5")
    assert by_id["a-4"][4:6] == ('Gare, quai "A"', "")
    assert by_id["a-5"][8:] == (0, 7)


@pytest.mark.parametrize(
    "change",
    [
        {"bytes_in": " 12"},  # spaces the row-by-row path trims
        {"session_id": "x" * 65},  # bad: the row-by-row path names it
        {"mac": "01:00:5E:00:00:01"},  # multicast
        {"mac": "00:00:00:00:00:00"},
        {"ip": "10.0.0.300"},
        {"started_at": "2026-03-01T09:30:00"},  # no offset
        {"bytes_out": "-1"},
    ],
)
def test_anything_unusual_goes_row_by_row_with_the_same_outcome(monkeypatch, change):
    rows = varied_rows()
    rows[3].update(change)
    body = sessions_csv(rows)
    outcomes = []
    for columnar in (True, False):
        with monkeypatch.context() as patched:
            if not columnar:
                patched.setattr(ingest.columnar, "_arrow", lambda: False)
            try:
                outcomes.append(("stored", record(body).accepted, stored()))
            except IngestError as error:
                outcomes.append(("refused", error.errors, stored()))
        NetworkSession.objects.all().delete()
    assert outcomes[0] == outcomes[1]
    if change == {"bytes_in": " 12"}:
        assert outcomes[0][1] == 7
    else:
        assert outcomes[0][0] == "refused" and outcomes[0][1][0]["line"] == 5 and outcomes[0][2] == []


def test_a_replay_on_the_columnar_path_reports_duplicates(monkeypatch):
    monkeypatch.setattr(ingest.columnar, "COLUMNAR_SEGMENT", 256)  # several segments, several COPY statements
    monkeypatch.setattr(ingest.columnar, "COLUMNAR_ROWS", 2)
    collector = CollectorFactory()
    body = sessions_csv(varied_rows())
    assert record(body, collector).accepted == 7
    again = record(body, collector)
    assert (again.accepted, again.duplicates) == (0, 7)
    assert NetworkSession.objects.count() == 7


def test_a_process_that_never_ingests_does_not_import_pyarrow():
    """pyarrow (about 40 MB resident) comes with the first columnar batch, not with the
    ingest package: a web process or an export worker never carries it."""
    code = "import sys, django; django.setup(); import portal.urls, accesslogs.ingest; print('pyarrow' in sys.modules)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
