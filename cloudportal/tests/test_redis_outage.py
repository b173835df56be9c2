"""The broker (Redis) stopped while customers ask for things and beat runs (marker
`faults`): a real worker and a real `celery beat` (every job every 2 seconds, for the
test) on a Redis of their own, which the test kills (SIGKILL, no persistence: what it
held is gone) and starts again empty. Nothing the customers asked for is lost: each
task queued on commit during the outage is found again by its beat catch-up job."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from accesslogs.models import IngestBatch
from accesslogs.services import collector_create
from accesslogs.tests.factories import session_row, sessions_csv
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal.testing.faults import wait_until
from devices.services import device_add
from exports.models import DataExport

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD}).status_code == 302
    return client


def test_work_asked_for_while_redis_is_down_is_done_once_it_is_back(faults, beat, settings):
    """Redis is the broker and this process's cache, as in production."""
    settings.ERASURE_GRACE_HOURS = 0  # the erasure is queued when the customer asks
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": faults.redis.url(1), "KEY_PREFIX": "outage"},
    }
    exporter, leaver = VerifiedUserFactory(), VerifiedUserFactory()
    device_add(user=exporter, mac="02:00:00:00:0A:01", label="Phone")
    collector, token = collector_create(name="Outage")
    exporting, leaving = _signed_in(exporter), _signed_in(leaver)
    leaver_email = leaver.email

    faults.redis.stop()
    # Every request succeeds: what it stored stays; its task is not queued.
    assert exporting.get(reverse("home")).status_code == 200
    assert exporting.get(reverse("me:export")).status_code == 200
    assert exporting.post(reverse("me:export")).status_code == 302
    assert leaving.post(reverse("me:delete"), {"confirm": "yes"}).status_code == 302
    signup = {"email": "newcomer@example.org", "password1": "a-long-enough-phrase", "password2": "a-long-enough-phrase"}
    assert Client().post(reverse("account_signup"), signup).status_code == 302
    ingest = Client().post(
        "/api/ingest/sessions",
        sessions_csv([session_row(mac="02:00:00:00:0A:01")]),
        content_type="text/csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ingest.status_code == 200, ingest.content
    time.sleep(3)  # beat's jobs come due meanwhile, and cannot be sent
    assert beat.poll() is None

    faults.redis.start()  # empty: whatever it held is lost
    faults.worker.wait_ready(faults.broker_url)

    wait_until(lambda: DataExport.objects.get(user=exporter).status == "ready", timeout=30, what="the export")
    wait_until(lambda: not User.objects.filter(pk=leaver.pk).exists(), timeout=30, what="the erasure")
    wait_until(lambda: not IngestBatch.objects.filter(rolled_up_at=None).exists(), timeout=30, what="the rollup")
    assert len(faults.smtp.wait_for_subject("Your data export is ready", to=exporter.email)) == 1
    assert len(faults.smtp.wait_for_subject("Your account has been erased", to=leaver_email)) == 1
    assert len(faults.smtp.wait_for_subject("We are deleting your account", to=leaver_email)) == 1
    assert len(faults.smtp.wait_for_subject("Confirm", to="newcomer@example.org")) == 1
