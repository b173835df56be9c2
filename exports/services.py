"""Data exports: asked for by the customer, built by a worker, expired by the beat job."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ActivityEvent, User
from accounts.services import activity_record
from cloudportal.broker import queue_now, queue_on_commit
from cloudportal.faults import fault_pause
from cloudportal.fragments import customer_changed
from cloudportal.outbox import absolute_url, email_queue
from cloudportal.privacy import categories
from cloudportal.replica import replica_or_primary

from .build import ExportWriter
from .models import DataExport

logger = logging.getLogger(__name__)
Status = DataExport.Status


def export_root() -> Path:
    root = Path(settings.EXPORT_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return root


def export_path(export: DataExport) -> Path:
    return export_root() / export.file_name


def export_request(*, user: User) -> DataExport:
    """Queue an export of everything the registry holds about the customer. One at
    a time: while one is queued or being built, asking again is refused."""
    try:
        with transaction.atomic():
            export = DataExport.objects.create(
                user=user,
                categories_total=len(categories()),
                file_name=f"export-{secrets.token_urlsafe(24)}.zip",
            )
            activity_record(
                user=user,
                action=ActivityEvent.Action.REQUESTED,
                category="exports",
                actor_kind=ActivityEvent.Actor.CUSTOMER,
                actor=user,
            )
            from . import tasks  # tasks.py imports this module

            queue_on_commit(tasks.export_build, export.pk)
    except IntegrityError:
        raise ValidationError(_("Your export is already being prepared; we will email you when it is ready.")) from None
    return export


def export_build_lease() -> timedelta:
    """How long a build may take before its export counts as left half-built by a
    worker that died: past the task's hard time limit, no worker can still be at it."""
    return timedelta(seconds=settings.EXPORT_BUILD_LEASE_SECONDS)


def _stale(now: datetime):
    return models.Q(status=Status.BUILDING, started_at__lt=now - export_build_lease())


def export_build(*, export_id: int) -> DataExport | None:
    """Build the export's ZIP file. Safe to run twice: only a queued export, or one
    left half-built by a worker that died (building for longer than the lease), is
    built; the file is written under a temporary name and renamed into place, and its
    SHA-256 recorded after, so a reader never sees half of it."""
    now = timezone.now()
    claimed = (
        DataExport.objects.filter(pk=export_id)
        .filter(models.Q(status=Status.QUEUED) | _stale(now))
        .update(status=Status.BUILDING, started_at=now, categories_done=0, records=0)
    )
    if not claimed:
        return None
    export = DataExport.objects.select_related("user").get(pk=export_id)
    customer_changed(export.user_id)  # "What we hold" says it is being built
    final = export_path(export)
    partial = final.with_suffix(".partial")

    def progress(done: int, records: int) -> None:
        DataExport.objects.filter(pk=export_id).update(categories_done=done, records=records)
        fault_pause("export.category_written")

    try:
        # Read from the replica if it has replayed the customer's last write (else, or
        # if it fails during the build, from the primary: the file is written anew).
        writer = ExportWriter(user=export.user, path=partial, on_category=progress)
        report = replica_or_primary(writer.write, user_id=export.user_id)
        if not DataExport.objects.filter(pk=export_id).exists():  # the account was erased meanwhile
            partial.unlink(missing_ok=True)
            return None
        partial.replace(final)
    except Exception:
        partial.unlink(missing_ok=True)
        DataExport.objects.filter(pk=export_id).update(status=Status.FAILED, finished_at=timezone.now())
        customer_changed(export.user_id)
        logger.exception("export %s failed", export_id)
        raise
    now = timezone.now()
    with transaction.atomic():
        export.status = Status.READY
        export.finished_at = now
        export.expires_at = now + timedelta(days=settings.EXPORT_VALID_DAYS)
        export.categories_done = export.categories_total
        export.records = sum(report.counts.values())
        export.size = final.stat().st_size
        export.sha256 = file_sha256(final)
        export.save()
        # An older export is superseded: one copy of the customer's data at a time.
        for older in DataExport.objects.filter(user=export.user, status=Status.READY).exclude(pk=export.pk):
            _export_expire(older)
        user = export.user
        email_queue(
            to=user.email,
            user=user,
            template="emails/export_ready",
            context={"export": export, "url": absolute_url("me:export")},
        )
    return export


def file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _export_expire(export: DataExport) -> None:
    if export.file_name:
        (export_root() / export.file_name).unlink(missing_ok=True)
        (export_root() / export.file_name).with_suffix(".partial").unlink(missing_ok=True)
    DataExport.objects.filter(pk=export.pk).update(status=Status.EXPIRED, size=None)
    customer_changed(export.user_id)


def exports_catch_up(*, now: datetime | None = None) -> int:
    """Queue again the exports no worker is building: queued (the broker may have lost
    their task, or been down when they were asked for) or left half-built by a worker
    that died. A task queued twice builds once: the first to claim the export does.
    Returns how many were queued."""
    from . import tasks  # tasks.py imports this module

    now = now or timezone.now()
    waiting = models.Q(status=Status.QUEUED)
    ids = list(DataExport.objects.filter(waiting | _stale(now)).values_list("pk", flat=True))
    return sum(queue_now(tasks.export_build, export_id) for export_id in ids)


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their download window. Idempotent."""
    now = now or timezone.now()
    expired = 0
    for export in DataExport.objects.filter(status=Status.READY, expires_at__lte=now):
        _export_expire(export)
        expired += 1
    return expired


def exports_delete_for(*, user: User) -> int:
    """Every export of the customer and its file: for account erasure."""
    exports = list(DataExport.objects.filter(user=user))
    for export in exports:
        _export_expire(export)
    DataExport.objects.filter(user=user).delete()
    return len(exports)
