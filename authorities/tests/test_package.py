"""The disclosure package (SPEC §4): built by a worker after approval with the export's
machinery, holding the request, its lookups and the matched sessions (CSV and JSON),
a README and a SHA-256 manifest; signed with an HMAC that `verify_disclosure` checks,
refusing a copy with any one byte changed; downloads recorded; it expires."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from authorities.models import AuthorityRequest, DisclosurePackage, RequestEvent
from authorities.package import SIGNATURE_PREFIX, disclosure_packages_expire, package_path, package_verify
from authorities.services import request_decide
from compliance.tests.factories import PrivacyOfficerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(request=world["request"], staff=PrivacyOfficerFactory(), decision="approved", reason="In order")
    found = DisclosurePackage.objects.get()
    assert found.status == DisclosurePackage.Status.READY
    return found


def test_the_package_holds_the_request_its_lookups_and_the_sessions_as_recorded(package):
    with zipfile.ZipFile(package_path(package)) as archive:
        names = archive.namelist()
        assert names == ["request.json", "lookups.csv", "sessions.csv", "sessions.json", "README.txt", "manifest.json"]
        assert archive.testzip() is None
        meta = json.loads(archive.read("request.json"))
        sessions = list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode())))
        records = json.loads(archive.read("sessions.json"))
        manifest = json.loads(archive.read("manifest.json"))
        readme = archive.read("README.txt").decode()
    assert meta["request"]["reference"] == package.request.reference
    assert meta["request"]["decision"] == "approved" and meta["request"]["reason_for_the_decision"] == "In order"
    assert [lk["sessions"] for lk in meta["lookups"]] == [2, 2]
    assert sorted((s["session_id"], s["email_as_recorded"]) for s in sessions) == [
        ("alice-1", "alice@example.com"),
        ("alice-1", "alice@example.com"),
        ("alice-2", "alice@example.com"),
        ("bob-1", "bob@example.com"),
    ]
    assert records["count"] == 4 and records["columns"][:3] == ["lookup", "session", "session_id"]
    assert [f["name"] for f in manifest["files"]] == names[:-1]
    assert "verify_disclosure" in readme and "email_as_recorded" in readme
    assert package.sha256 and package.signature and package.expires_at > timezone.now() + timedelta(days=6)
    assert package.request.events.filter(action=RequestEvent.Action.PACKAGE).exists()
    [ready] = [m for m in mail.outbox if "disclosure package is ready" in m.subject]
    assert ready.to == [package.request.officer.email] and ready.alternatives


def test_verify_disclosure_accepts_the_package_and_refuses_any_byte_changed(package, tmp_path, capsys):
    path = package_path(package)
    call_command("verify_disclosure", str(path))
    assert "OK" in capsys.readouterr().out
    data = path.read_bytes()
    central = data.rfind(b"PK\x01\x02")
    for position in (0, 40, len(data) // 2, central + 12, len(data) - len(SIGNATURE_PREFIX) - 70, len(data) - 1):
        changed = bytearray(data)
        changed[position] ^= 0x01
        copy = tmp_path / f"changed-{position}.zip"
        copy.write_bytes(bytes(changed))
        assert package_verify(copy), f"a change at byte {position} went unnoticed"
        with pytest.raises(CommandError, match="REFUSED"):
            call_command("verify_disclosure", str(copy))


def test_another_key_does_not_verify(package, settings):
    settings.DISCLOSURE_SIGNING_KEY = "another-key"
    assert "signature does not match" in package_verify(package_path(package))[0]


def test_downloading_is_recorded_and_marks_the_request_disclosed(client, package):
    officer = package.request.officer
    client.force_login(officer)
    url = reverse("admin:authorities_authorityrequest_download", args=[package.request_id, package.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == package_path(package).read_bytes()
    package.refresh_from_db()
    assert package.downloads == 1
    assert package.request.events.filter(action=RequestEvent.Action.DOWNLOADED, staff=officer).exists()
    assert AuthorityRequest.objects.get().status == AuthorityRequest.Status.DISCLOSED


def test_the_package_expires_like_exports(client, package):
    disclosure_packages_expire(now=timezone.now() + timedelta(days=8))
    package.refresh_from_db()
    assert package.status == DisclosurePackage.Status.EXPIRED and not package_path(package).exists()
    client.force_login(package.request.officer)
    url = reverse("admin:authorities_authorityrequest_download", args=[package.request_id, package.pk])
    assert client.get(url).status_code == 404


def test_a_package_built_after_its_request_was_closed_is_not_offered(package):
    """A worker still building while an officer closes the request: closing takes the
    request's row first, and the build, which takes it too before marking the package
    ready, finds it closed and leaves nothing to download (no deadlock between them)."""
    from authorities.package import disclosure_package_build
    from authorities.services import request_close

    request = package.request
    DisclosurePackage.objects.filter(pk=package.pk).update(status=DisclosurePackage.Status.QUEUED)
    request_close(request=request, staff=request.officer, reason="Answered")
    DisclosurePackage.objects.filter(pk=package.pk).update(status=DisclosurePackage.Status.QUEUED)
    assert disclosure_package_build(package_id=package.pk) is None
    assert not package_path(package).exists()
    assert DisclosurePackage.objects.get(pk=package.pk).status != DisclosurePackage.Status.READY


def test_a_package_whose_build_was_lost_is_queued_again_by_the_catch_up(world, monkeypatch):
    from django.utils import timezone

    from authorities import package as packages

    queued: list[int] = []
    with monkeypatch.context() as patch:
        patch.setattr(packages, "queue_on_commit", lambda task, pk: None)  # the broker lost it
        request_decide(request=world["request"], staff=PrivacyOfficerFactory(), decision="approved", reason="In order")
    waiting = DisclosurePackage.objects.get()
    assert waiting.status == DisclosurePackage.Status.QUEUED
    monkeypatch.setattr(packages, "queue_now", lambda task, pk: queued.append(pk) or True)
    assert packages.disclosure_packages_catch_up() == 0  # asked just now: its task may be on its way
    assert packages.disclosure_packages_catch_up(now=timezone.now() + timedelta(hours=2)) == 1
    assert queued == [waiting.pk]
    packages.disclosure_package_build(package_id=waiting.pk)  # what the queued task does
    waiting.refresh_from_db()
    assert waiting.status == DisclosurePackage.Status.READY
    assert packages.disclosure_packages_catch_up(now=timezone.now() + timedelta(hours=2)) == 0
