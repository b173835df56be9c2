"""The exports' catch-up job (beat): which exports it queues again, and that a second
task for one export builds nothing."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import VerifiedUserFactory
from exports.models import DataExport
from exports.services import export_build, export_build_lease, exports_catch_up

pytestmark = pytest.mark.django_db
Status = DataExport.Status


def _export(status: str, started_ago: timedelta | None = None) -> DataExport:
    started = timezone.now() - started_ago if started_ago is not None else None
    return DataExport.objects.create(
        user=VerifiedUserFactory(), status=status, started_at=started, file_name=f"export-{secrets.token_hex(8)}.zip"
    )


def test_the_catch_up_queues_waiting_exports_and_builds_left_by_a_dead_worker():
    waiting = _export(Status.QUEUED)
    abandoned = _export(Status.BUILDING, started_ago=export_build_lease() + timedelta(seconds=5))
    building = _export(Status.BUILDING, started_ago=timedelta(seconds=5))
    ready = _export(Status.READY, started_ago=timedelta(hours=1))

    assert exports_catch_up() == 2  # the tasks run here, eagerly
    statuses = dict(DataExport.objects.values_list("pk", "status"))
    assert statuses[waiting.pk] == statuses[abandoned.pk] == Status.READY
    assert statuses[building.pk] == Status.BUILDING  # a worker may still be at it
    assert statuses[ready.pk] == Status.READY


def test_a_second_task_for_an_export_being_built_builds_nothing(settings):
    export = _export(Status.BUILDING, started_ago=timedelta(seconds=5))
    assert export_build(export_id=export.pk) is None
    settings.EXPORT_BUILD_LEASE_SECONDS = 1
    assert export_build(export_id=export.pk) is not None  # past its lease: left by a dead worker
