"""A worker killed in the middle of an export (marker `faults`): the real prefork
worker's pool process is killed with SIGKILL while the archive is half-written."""

from __future__ import annotations

import time
import zipfile

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.testing.faults import kill, wait_until
from cloudportal.tests.test_privacy_registry import _fill
from exports import tasks
from exports.models import DataExport
from exports.services import export_path, export_request, file_sha256

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

PAUSE = "export.category_written"


def test_an_export_whose_worker_is_killed_midway_is_never_offered_half_written_and_is_built_again(faults, client):
    user = VerifiedUserFactory()
    _fill(user)
    User.objects.filter(pk=user.pk).update(language="en")  # _fill chose French
    client.force_login(user)
    faults.pauses.hold(PAUSE)
    export = export_request(user=user)
    pid = faults.pauses.wait_reached(PAUSE)  # the pool process, after the first category

    final = export_path(export)
    assert final.with_suffix(".partial").exists() and not final.exists()
    export.refresh_from_db()
    assert export.status == DataExport.Status.BUILDING and not export.sha256
    assert client.get(reverse("me:export_download", args=[export.pk])).status_code == 404

    kill(pid)
    faults.pauses.release(PAUSE)
    time.sleep(2)  # the worker took the loss (the message is acknowledged: nothing retries it)
    export.refresh_from_db()
    assert export.status == DataExport.Status.BUILDING and not final.exists()
    assert client.get(reverse("me:export_download", args=[export.pk])).status_code == 404

    # Beat's catch-up finds the build left by a dead worker (older than its lease).
    tasks.exports_catch_up.delay()
    wait_until(
        lambda: DataExport.objects.get(pk=export.pk).status == DataExport.Status.READY, what="the export rebuilt"
    )
    export.refresh_from_db()
    assert final.exists() and not final.with_suffix(".partial").exists()
    assert export.sha256 == file_sha256(final) and export.size == final.stat().st_size
    with zipfile.ZipFile(final) as archive:
        assert archive.testzip() is None and "manifest.json" in archive.namelist()
    response = client.get(reverse("me:export_download", args=[export.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == final.read_bytes()
    assert len(faults.smtp.wait_for_subject("Your data export is ready", to=user.email)) == 1  # told once


def test_the_catch_up_queues_an_export_whose_task_never_reached_a_worker(faults):
    """The broker lost the message (stopped before a worker took it): the export waits
    queued until the catch-up job queues it again."""
    user = VerifiedUserFactory()
    faults.redis.stop()
    export = export_request(user=user)  # queued on commit: the broker is down, no error
    faults.redis.start()
    faults.worker.wait_ready(faults.broker_url)
    time.sleep(1)
    assert DataExport.objects.get(pk=export.pk).status == DataExport.Status.QUEUED
    tasks.exports_catch_up.delay()
    wait_until(lambda: DataExport.objects.get(pk=export.pk).status == DataExport.Status.READY, what="the export")
