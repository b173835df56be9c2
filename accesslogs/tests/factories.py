"""Access-log factories: collectors made through the service (their token kept on
the instance as `token`), and sessions recorded through ingest, as equipment sends
them, so that attribution and the daily usage rollup are the real ones."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime, timedelta

import factory
from django.test import TestCase
from django.utils import timezone

from accesslogs.ingest import FIELDS, IngestResult, rewinding, sessions_ingest
from accesslogs.models import Collector
from accesslogs.services import collector_create

_session_ids = itertools.count(1)


class CollectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collector

    name = factory.Sequence(lambda n: f"Collector {n + 1}")

    @classmethod
    def _create(cls, model_class, *args, name: str, **kwargs) -> Collector:
        collector, token = collector_create(name=name)
        collector.token = token
        return collector


def session_row(**values) -> dict:
    """One session as a collector reports it: an hour at a Paris site an hour ago,
    unless told otherwise. `started_at`/`ended_at` may be datetimes."""
    started = values.pop("started_at", None) or timezone.now() - timedelta(hours=2)
    ended = values.pop("ended_at", None) or started + timedelta(hours=1)
    row = {
        "session_id": f"s{next(_session_ids)}",
        "mac": "00:1A:2B:00:00:01",
        "ip": "192.0.2.10",
        "site": "Gare du Nord",
        "site_address": "18 rue de Dunkerque, 75010 Paris",
        "started_at": started,
        "ended_at": ended,
        "bytes_in": 1_000_000,
        "bytes_out": 200_000,
    }
    row.update(values)
    for name in ("started_at", "ended_at"):
        if isinstance(row[name], datetime):
            row[name] = row[name].isoformat()
    return row


def sessions_csv(rows: list[dict]) -> bytes:
    """Complete session rows as the CSV body a collector sends, header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def sessions_record(collector: Collector, rows: list[dict]) -> IngestResult:
    """Ingest `rows` (dicts for session_row) as one CSV batch from `collector`, and run
    what follows its commit (the daily usage rollup) as a committed batch would."""
    body = sessions_csv([session_row(**values) for values in rows])
    with TestCase.captureOnCommitCallbacks(execute=True):
        return sessions_ingest(collector=collector, source=rewinding(io.BytesIO(body)), fmt="csv")
