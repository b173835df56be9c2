"""The disclosure package: the ZIP file handed to the authority, built by a worker with
the export's machinery (exports/archive.py, exports/build.py's COPY streams), so its
memory stays bounded whatever the number of sessions.

Members:
- `request.json`: the request (authority, reference, legal basis, dates, decision,
  officers) and its lookups, with the number of sessions each matched;
- `lookups.csv`: the lookups, for people;
- `sessions.csv` and `sessions.json`: every matched session, as it was recorded;
- `README.txt`: what each file and field means, and how to check the package;
- `manifest.json`: the size and SHA-256 of each member above.

Signature: the file ends with a ZIP comment `cloudportal-disclosure/1
hmac-sha256=<64 hex digits>`, the HMAC-SHA256, keyed with DISCLOSURE_SIGNING_KEY, of
every byte of the file before the comment. Changing any byte of the file (a member,
a header, the directory or the comment) makes the check fail; `python manage.py
verify_disclosure FILE` checks the HMAC, then each member against the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import secrets
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from cloudportal.broker import queue_now, queue_on_commit
from cloudportal.csv_cells import csv_text, csv_text_sql
from cloudportal.outbox import absolute_url, email_queue
from cloudportal.privacy import BulkExport
from exports.archive import Spool, ZipWriter
from exports.build import JsonRecords, bulk_copy
from exports.services import file_sha256

from .models import AuthorityRequest, DisclosurePackage, Lookup, LookupMatch, RequestEvent
from .selectors import matches_of

logger = logging.getLogger(__name__)
FORMAT = "cloudportal-disclosure/1"
SIGNATURE_PREFIX = f"{FORMAT} hmac-sha256=".encode()
SIGNATURE_SIZE = len(SIGNATURE_PREFIX) + 64
Status = DisclosurePackage.Status

#: The matched sessions' columns, in order, as SQL on `m` (authorities_lookupmatch).
SESSION_COLUMNS = (
    ("lookup", "m.lookup_id"),
    ("session", "m.session_pk"),
    ("session_id", csv_text_sql("m.session_id")),
    ("started", "m.started_at"),
    ("ended", "m.ended_at"),
    ("mac", "m.mac"),
    ("ip", "host(m.ip)"),
    ("site", csv_text_sql("m.site")),
    ("site_address", csv_text_sql("m.site_address")),
    ("bytes_in", "m.bytes_in"),
    ("bytes_out", "m.bytes_out"),
    ("account", "m.account_ref"),
    ("email_as_recorded", csv_text_sql("m.email")),
)


def packages_root() -> Path:
    root = Path(settings.EXPORT_ROOT) / "disclosures"
    root.mkdir(parents=True, exist_ok=True)
    return root


def package_path(package: DisclosurePackage) -> Path:
    return packages_root() / package.file_name


# --- Queue, build, expire -----------------------------------------------------------


def package_queue(*, request: AuthorityRequest, staff: User) -> DisclosurePackage:
    """Queue the package of an approved request for a worker (one at a time)."""
    if request.decision != AuthorityRequest.Decision.APPROVED or request.closed_at is not None:
        raise ValidationError(_("Only an approved request that is still open has a package."))
    try:
        with transaction.atomic():
            package = DisclosurePackage.objects.create(
                request=request, file_name=f"disclosure-{secrets.token_urlsafe(24)}.zip"
            )
    except IntegrityError:
        raise ValidationError(_("The package is already being prepared.")) from None
    from . import tasks  # tasks.py imports this module

    queue_on_commit(tasks.disclosure_package_build, package.pk)
    return package


def disclosure_packages_catch_up(*, now=None) -> int:
    """Queue again the packages no worker is building: asked for longer ago than the
    build's hard time limit (EXPORT_BUILD_LEASE_SECONDS) and still queued or
    building (the task was lost with the broker, or its worker died). A build run
    twice writes under a temporary name: harmless. Returns how many were queued."""
    from . import tasks  # tasks.py imports this module

    before = (now or timezone.now()) - timedelta(seconds=settings.EXPORT_BUILD_LEASE_SECONDS)
    waiting = DisclosurePackage.objects.filter(status__in=DisclosurePackage.IN_PROGRESS, created_at__lt=before)
    return sum(queue_now(tasks.disclosure_package_build, pk) for pk in waiting.values_list("pk", flat=True))


def disclosure_package_build(*, package_id: int) -> DisclosurePackage | None:
    """Build the package's file. Safe to run twice: only a queued package (or one a
    dead worker left half-built) is built, under a temporary name renamed into place."""
    claimed = DisclosurePackage.objects.filter(pk=package_id, status__in=DisclosurePackage.IN_PROGRESS).update(
        status=Status.BUILDING
    )
    if not claimed:
        return None
    package = DisclosurePackage.objects.select_related("request", "request__officer").get(pk=package_id)
    final = package_path(package)
    partial = final.with_suffix(".partial")
    try:
        signature = package_write(request=package.request, path=partial)
        partial.replace(final)
    except Exception:
        partial.unlink(missing_ok=True)
        DisclosurePackage.objects.filter(pk=package_id).update(status=Status.FAILED, finished_at=timezone.now())
        logger.exception("disclosure package %s failed", package_id)
        raise
    now = timezone.now()
    with transaction.atomic():
        # The request's row first, as closing the request takes it: closing while the
        # package is built then waits here or is waited for, never deadlocks.
        request = AuthorityRequest.objects.select_for_update().get(pk=package.request_id)
        still = DisclosurePackage.objects.select_for_update().filter(pk=package_id, status=Status.BUILDING)
        if request.closed_at is not None or not still.exists():
            final.unlink(missing_ok=True)  # closed (or expired) meanwhile: nothing to offer
            return None
        package.status, package.finished_at = Status.READY, now
        package.expires_at = now + timedelta(days=settings.EXPORT_VALID_DAYS)
        package.size, package.sha256, package.signature = final.stat().st_size, file_sha256(final), signature
        package.save()
        RequestEvent.objects.create(request=package.request, action=RequestEvent.Action.PACKAGE, note=package.sha256)
        officer = package.request.officer
        email_queue(
            to=officer.email,
            user=officer,
            template="emails/disclosure_package_ready",
            context={
                "request": package.request,
                "package": package,
                "url": absolute_url("admin:authorities_authorityrequest_package", package.request_id),
            },
        )
    return package


@transaction.atomic
def package_download_record(*, package: DisclosurePackage, staff: User) -> None:
    """A Privacy officer downloaded the package: recorded in the request's trail; the
    first download of an approved request's package marks it disclosed."""
    DisclosurePackage.objects.filter(pk=package.pk).update(downloads=models.F("downloads") + 1)
    RequestEvent.objects.create(
        request=package.request, action=RequestEvent.Action.DOWNLOADED, staff=staff, note=package.sha256
    )
    AuthorityRequest.objects.filter(pk=package.request_id, status=AuthorityRequest.Status.APPROVED).update(
        status=AuthorityRequest.Status.DISCLOSED
    )


def _package_expire(package: DisclosurePackage) -> None:
    package_path(package).unlink(missing_ok=True)
    package_path(package).with_suffix(".partial").unlink(missing_ok=True)
    DisclosurePackage.objects.filter(pk=package.pk).update(status=Status.EXPIRED, size=None)


def disclosure_packages_expire(*, now=None) -> int:
    """Delete the files of packages past their download window. Idempotent."""
    now = now or timezone.now()
    due = list(DisclosurePackage.objects.filter(status=Status.READY, expires_at__lte=now))
    for package in due:
        _package_expire(package)
    return len(due)


def packages_expire_for(*, request: AuthorityRequest) -> None:
    for package in DisclosurePackage.objects.filter(request=request).exclude(status=Status.EXPIRED):
        _package_expire(package)


# --- Writing ------------------------------------------------------------------------


def _csv_bytes(values) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(values)
    return text.getvalue().encode()


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _lookup_record(lookup: Lookup) -> dict:
    return {
        "lookup": lookup.pk,
        "by": lookup.kind,
        "value": lookup.value,
        "from": lookup.starts_at.isoformat(),
        "to": lookup.ends_at.isoformat(),
        "sessions": lookup.sessions,
        "accounts": lookup.accounts,
        "run_at": lookup.created_at.isoformat(),
        "run_by": str(lookup.created_by),
    }


def _request_record(request: AuthorityRequest, lookups: list[Lookup]) -> dict:
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "operator": settings.OPERATOR_NAME,
        "request": {
            "number": request.pk,
            "authority": request.authority,
            "kind_of_authority": request.authority_kind,
            "reference": request.reference,
            "legal_basis": request.legal_basis,
            "received_on": _iso(request.received_on),
            "due_on": _iso(request.due_on),
            "officer_in_charge": str(request.officer),
            "decision": request.decision,
            "decided_at": _iso(request.decided_at),
            "decided_by": str(request.decided_by) if request.decided_by else None,
            "reason_for_the_decision": request.decision_reason,
        },
        "lookups": [_lookup_record(lookup) for lookup in lookups],
    }


def _sessions_python(lookups: list[Lookup]) -> Iterator[list]:
    for lookup in lookups:
        for m in matches_of(lookup=lookup).iterator(chunk_size=2000):
            yield [
                m.lookup_id,
                m.session_pk,
                m.session_id,
                m.started_at.isoformat(),
                m.ended_at.isoformat(),
                m.mac,
                str(m.ip),
                m.site,
                m.site_address,
                m.bytes_in,
                m.bytes_out,
                m.account_ref,
                m.email,
            ]


def _sessions_write(lookups: list[Lookup], csv_member, json_spool: Spool) -> int:
    """Both files of the matched sessions; the number written. On PostgreSQL the
    database writes them (COPY, as the data export does); elsewhere row by row."""
    columns = [name for name, _sql in SESSION_COLUMNS]
    csv_member.write(_csv_bytes(columns))
    json_spool.write(json.dumps({"columns": columns})[:-1].encode() + b', "records": [')
    if connection.vendor == "postgresql":
        bulk = BulkExport(
            select=SESSION_COLUMNS,
            source=f"FROM {LookupMatch._meta.db_table} m WHERE m.lookup_id = %s ORDER BY m.started_at, m.session_pk",  # noqa: S608
            parts=tuple((lookup.pk,) for lookup in lookups),
        )
        records = JsonRecords(json_spool)
        bulk_copy(bulk, rows=csv_member.write, records=records.write)
        count = records.count
    else:
        count = 0
        for row in _sessions_python(lookups):
            cells = [csv_text(v) if isinstance(v, str) else ("" if v is None else v) for v in row]
            csv_member.write(_csv_bytes(cells))
            json_spool.write((b",\n" if count else b"\n") + json.dumps(row, ensure_ascii=False).encode())
            count += 1
    json_spool.write(f'], "count": {count}}}\n'.encode())
    return count


def package_write(*, request: AuthorityRequest, path: Path) -> str:
    """Write the package to `path`; return its signature (hex)."""
    lookups = list(request.lookups.select_related("created_by").order_by("pk"))
    files = []
    with open(path, "w+b") as file, Spool("sessions.json") as sessions_json:
        archive = ZipWriter(file, modified=timezone.localtime())
        member = archive.open("request.json")
        member.write(json.dumps(_request_record(request, lookups), indent=2, ensure_ascii=False).encode() + b"\n")
        files.append(member.close())
        member = archive.open("lookups.csv")
        names = ["lookup", "by", "value", "from", "to", "sessions", "accounts", "run_at", "run_by"]
        member.write(_csv_bytes(names))
        for lookup in lookups:
            record = _lookup_record(lookup)
            member.write(_csv_bytes([csv_text(str(record[n])) for n in names]))
        files.append(member.close())
        member = archive.open("sessions.csv")
        count = _sessions_write(lookups, member, sessions_json)
        files.append(member.close())
        files.append(archive.add(sessions_json))
        member = archive.open("README.txt")
        with translation.override(request.officer.language or settings.LANGUAGE_CODE):
            readme = render_to_string(
                "authorities/package_README.txt",
                {"request": request, "count": count, "OPERATOR_NAME": settings.OPERATOR_NAME, "FORMAT": FORMAT},
            )
        member.write(readme.encode())
        files.append(member.close())
        manifest = {"format": FORMAT, "files": [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in files]}
        member = archive.open("manifest.json")
        member.write(json.dumps(manifest, indent=2).encode() + b"\n")
        member.close()
        archive.close(comment_size=SIGNATURE_SIZE)
        signature = _hmac_of(file, file.tell())
        file.seek(0, 2)
        file.write(SIGNATURE_PREFIX + signature.encode())
    return signature


# --- Checking -------------------------------------------------------------------------


def _hmac_of(file, size: int) -> str:
    mac = hmac.new(settings.DISCLOSURE_SIGNING_KEY.encode(), digestmod=hashlib.sha256)
    file.seek(0)
    left = size
    while left > 0:
        chunk = file.read(min(left, 1024 * 1024))
        if not chunk:
            break
        mac.update(chunk)
        left -= len(chunk)
    return mac.hexdigest()


def package_verify(path: Path) -> list[str]:
    """What is wrong with the package at `path` (an empty list: it is as signed)."""
    try:
        size = path.stat().st_size
    except OSError:
        return [_("The file cannot be read.")]
    with path.open("rb") as file:
        if size < SIGNATURE_SIZE:
            return [_("The file is too short to be a disclosure package.")]
        file.seek(size - SIGNATURE_SIZE)
        tail = file.read(SIGNATURE_SIZE)
        if not tail.startswith(SIGNATURE_PREFIX):
            return [_("The file carries no disclosure package signature.")]
        expected = _hmac_of(file, size - SIGNATURE_SIZE)
        if not hmac.compare_digest(expected.encode(), tail[len(SIGNATURE_PREFIX) :]):
            return [_("The signature does not match: the file was changed, or signed with another key.")]
    return _manifest_problems(path)


def _manifest_problems(path: Path) -> list[str]:
    problems = []
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            listed = {f["name"]: f for f in manifest["files"]}
            present = set(archive.namelist()) - {"manifest.json"}
            if present != set(listed):
                problems.append(_("The members of the archive are not those its manifest lists."))
            for name, entry in listed.items():
                if name in present:
                    digest = hashlib.sha256()
                    with archive.open(name) as member:
                        while chunk := member.read(1024 * 1024):
                            digest.update(chunk)
                    if digest.hexdigest() != entry["sha256"]:
                        problems.append(_("%(name)s does not match its SHA-256 in the manifest.") % {"name": name})
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        problems.append(_("The file is not a readable disclosure package."))
    return problems
