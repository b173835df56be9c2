"""Data exports: the ZIP file's contents against the registry, one at a time,
owner-only download while valid, expiry."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accesslogs.retention import erase_on
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal import privacy
from cloudportal.csv_cells import csv_text
from cloudportal.tests.test_privacy_registry import _fill
from exports.models import DataExport
from exports.services import export_path, export_request, exports_expire

pytestmark = pytest.mark.django_db


def built_export(user, capture) -> tuple[DataExport, dict[str, int]]:
    """The export, built by the task once the request commits, and the number of
    records of each category at that moment (the "ready" email comes after)."""
    with capture(execute=True):
        export = export_request(user=user)
        expected = {c.key: len(list(c.export(user))) for c in privacy.categories()}
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY, export.status
    return export, expected


def archive_check(data: bytes, expected: dict[str, int]) -> dict:
    """Checks the ZIP file against the registry and its manifest; returns data.json."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        keys = [c.key for c in privacy.categories()]
        assert names == {"data.json", "README.txt", "manifest.json", *(f"{k}.csv" for k in keys)}
        manifest = json.loads(zf.read("manifest.json"))
        listed = {f["name"]: f for f in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        for name, entry in listed.items():
            content = zf.read(name)
            assert hashlib.sha256(content).hexdigest() == entry["sha256"] and len(content) == entry["bytes"], name
        data = json.loads(zf.read("data.json"))
        assert list(data["categories"]) == keys
        for category in privacy.categories():
            part = data["categories"][category.key]
            count = expected[category.key]
            assert part["count"] == len(part["records"]) == count, category.key
            rows = list(csv.reader(io.StringIO(zf.read(f"{category.key}.csv").decode())))
            assert len(rows) == count + (1 if part["columns"] else 0), category.key
            if part["columns"]:
                assert rows[0] == part["columns"]
        readme = zf.read("README.txt").decode()
        for category in privacy.categories():
            for text in (category.label, category.legal_basis, category.retention, *category.processors):
                assert str(text) in readme, (category.key, text)
    return data


def test_the_export_holds_every_category_with_its_counts_and_a_manifest_that_matches(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = VerifiedUserFactory()
    _fill(user)
    User.objects.filter(pk=user.pk).update(language="en")  # _fill chose French
    user.refresh_from_db()
    export, expected = built_export(user, django_capture_on_commit_callbacks)
    assert all(expected.values()), expected  # every category has records
    data = archive_check(export_path(export).read_bytes(), expected)
    # Sessions come from COPY: the same values as the registry's rows.
    sessions = data["categories"]["access_logs"]
    [row] = sessions["records"]
    record = dict(zip(sessions["columns"], row, strict=True))
    [expected] = list(privacy.category("access_logs").export(user))
    assert record["site"] == "Gare de Lyon" and record["email_as_recorded"] == user.email
    assert record["erased_on"] == expected["erased_on"] == "held"  # _fill's hold on the account may be told of
    assert record["bytes_in"] == expected["bytes_in"]
    profile = dict(
        zip(data["categories"]["profile"]["columns"], data["categories"]["profile"]["records"][0], strict=True)
    )
    assert profile["iban"] == "FR1420041010050500013M02606"
    assert export.sha256 == hashlib.sha256(export_path(export).read_bytes()).hexdigest()
    [ready] = [m for m in mailoutbox if "Your data export is ready" in m.subject]
    assert ready.to == [user.email] and ready.alternatives and "/me/export/" in ready.body


def test_sessions_under_each_address_the_customer_had_and_the_csv_matches_data_json(
    django_capture_on_commit_callbacks,
):
    """Sessions are read one query per address they were recorded under (oldest
    address first); the CSV file and data.json hold the same rows."""
    from accesslogs.services import collector_create
    from accesslogs.tests.factories import sessions_record
    from devices.services import device_add

    user = VerifiedUserFactory(email="old@example.test")
    device = device_add(user=user, mac="02:00:00:00:AA:01", label="Phone")
    collector, _token = collector_create(name="Two addresses")
    now = timezone.now()
    sessions_record(
        collector,
        [
            {"mac": device.mac, "site": "=Gare, de Lyon", "started_at": now - timedelta(days=3)},
            {"mac": device.mac, "site": 'Le "Nord"', "started_at": now - timedelta(days=2)},
        ],
    )
    User.objects.filter(pk=user.pk).update(email="new@example.test")
    user.refresh_from_db()
    sessions_record(collector, [{"mac": device.mac, "site": "Opéra", "started_at": now - timedelta(days=5)}])
    export, expected = built_export(user, django_capture_on_commit_callbacks)
    assert expected["access_logs"] == 3
    with zipfile.ZipFile(export_path(export)) as zf:
        data = json.loads(zf.read("data.json"))
        rows = list(csv.reader(io.StringIO(zf.read("access_logs.csv").decode())))
    sessions = data["categories"]["access_logs"]
    assert sessions["count"] == 3 and rows[0] == sessions["columns"]
    records = [dict(zip(sessions["columns"], r, strict=True)) for r in sessions["records"]]
    assert [(r["email_as_recorded"], r["site"]) for r in records] == [
        ("old@example.test", "=Gare, de Lyon"),
        ("old@example.test", 'Le "Nord"'),
        ("new@example.test", "Opéra"),
    ]
    assert rows[1][rows[0].index("site")] == "'=Gare, de Lyon"  # a spreadsheet would run it
    for record, row in zip(records, rows[1:], strict=True):
        text = dict(zip(rows[0], row, strict=True))
        for name in ("started", "ended"):  # ISO 8601 in data.json, PostgreSQL's own text in the CSV
            assert datetime.fromisoformat(record.pop(name)) == datetime.fromisoformat(text.pop(name))
        assert {name: csv_text(str(value)) for name, value in record.items()} == text
        assert isinstance(record["bytes_in"], int)


def test_one_export_at_a_time(django_capture_on_commit_callbacks):
    user = VerifiedUserFactory()
    export_request(user=user)  # not run: no commit in this test
    with pytest.raises(ValidationError):
        export_request(user=user)
    assert DataExport.objects.filter(user=user).count() == 1


def test_download_is_for_the_owner_only_while_valid(client, django_capture_on_commit_callbacks):
    owner, other = VerifiedUserFactory(), VerifiedUserFactory()
    export, expected = built_export(owner, django_capture_on_commit_callbacks)
    url = reverse("me:export_download", args=[export.pk])
    status_url = reverse("me:export_status", args=[export.pk])
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(status_url).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive_check(b"".join(response.streaming_content), expected)
    assert client.get(status_url).json()["status"] == "ready"
    # Past its window: the beat job deletes the file, the link is a 404.
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
    assert exports_expire() == 1 and exports_expire() == 0
    assert not export_path(export).exists()
    assert DataExport.objects.get(pk=export.pk).status == DataExport.Status.EXPIRED


def test_asking_needs_the_password_again(client, django_capture_on_commit_callbacks):
    user = VerifiedUserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    client.session.pop("account_authentication_methods", None)
    assert client.get(reverse("me:export")).status_code == 200
    # A session whose sign-in is older than the re-authentication window.
    session = client.session
    for method in session.get("account_authentication_methods", []):
        method["at"] = 0
    session.save()
    response = client.post(reverse("me:export"))
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response.url
    assert not DataExport.objects.exists()
    assert client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("me:export")).status_code == 302
    assert DataExport.objects.filter(user=user, status=DataExport.Status.READY).count() == 1


def test_a_category_with_no_records_still_has_its_columns_in_the_csv_and_in_data_json(
    django_capture_on_commit_callbacks,
):
    """A new customer holds nothing in most categories: each CSV file still starts
    with its header row and data.json still names the columns, the category's own."""
    full = VerifiedUserFactory()
    _fill(full)
    columns = {c.key: [*next(iter(c.export(full)))] for c in privacy.categories()}
    user = VerifiedUserFactory()
    export, expected = built_export(user, django_capture_on_commit_callbacks)
    empty = [key for key, count in expected.items() if count == 0]
    assert {"profile", "devices", "access_logs", "data_requests"} <= set(empty)
    with zipfile.ZipFile(export_path(export)) as zf:
        data = json.loads(zf.read("data.json"))
        for category in privacy.categories():
            part = data["categories"][category.key]
            assert part["columns"] == columns[category.key], category.key
            rows = list(csv.reader(io.StringIO(zf.read(f"{category.key}.csv").decode())))
            assert rows[0] == columns[category.key], category.key
            assert len(rows) == 1 + expected[category.key], category.key


def test_every_category_exports_the_columns_it_declares():
    """The export's Python path (records as dicts) and its bulk path (COPY) give
    every category the columns it declares, in that order."""
    user = VerifiedUserFactory()
    _fill(user)
    for category in privacy.categories():
        assert category.columns, category.key
        for record in category.export(user):
            assert tuple(record) == category.columns, category.key
        if category.export_bulk is not None:
            assert category.export_bulk(user).columns == category.columns, category.key


def test_a_phone_number_stays_as_it_is_in_the_csv_and_a_formula_is_protected(django_capture_on_commit_callbacks):
    from accounts.services import profile_update

    user = VerifiedUserFactory()
    profile_update(user=user, actor=user, data={"phone": "+33612345678", "company": '=HYPERLINK("x")'})
    export, _expected = built_export(user, django_capture_on_commit_callbacks)
    with zipfile.ZipFile(export_path(export)) as zf:
        header, row = list(csv.reader(io.StringIO(zf.read("profile.csv").decode())))
        data = json.loads(zf.read("data.json"))
    profile = dict(zip(header, row, strict=True))
    assert profile["phone"] == "+33612345678"
    assert profile["company"] == '\'=HYPERLINK("x")'
    # data.json is for programs: the values as they are.
    part = data["categories"]["profile"]
    record = dict(zip(part["columns"], part["records"][0], strict=True))
    assert record["phone"] == "+33612345678" and record["company"] == '=HYPERLINK("x")'


def test_the_export_page_says_ready_or_being_prepared_never_both(client, django_capture_on_commit_callbacks):
    """Embedded, the export is built before the page comes back: it says ready, and
    only that; while it is being built, it says so, and only that."""
    user = VerifiedUserFactory()
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("me:export"))
    # (The build ran once the request's work committed, as it does embedded.)
    page = client.get(response.url).content.decode()
    assert "Your export is ready" in page and "being prepared" not in page

    DataExport.objects.filter(user=user).update(status=DataExport.Status.EXPIRED)
    response = client.post(reverse("me:export"), follow=True)  # queued: the task runs after the commit
    page = response.content.decode()
    assert "Your export is being prepared" in page and "Your export is ready" not in page


def _archive_sessions(export) -> tuple[list[dict], list[dict]]:
    """The access logs of an export: data.json's records and the CSV's rows, as dicts."""
    with zipfile.ZipFile(export_path(export)) as zf:
        data = json.loads(zf.read("data.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("access_logs.csv").decode())))
    part = data["categories"]["access_logs"]
    return [dict(zip(part["columns"], r, strict=True)) for r in part["records"]], rows


@pytest.mark.parametrize("told", [True, False], ids=["hold-the-customer-may-know-of", "secret-hold"])
def test_the_export_says_held_exactly_where_logs_does(client, django_capture_on_commit_callbacks, settings, told):
    """One truth for each session: the export's data.json and CSV (COPY on PostgreSQL,
    and the registry's rows), /logs/ and its CSV say "held" for the sessions a hold the
    customer may know of keeps, and the erase date for the others; a secret hold
    changes nothing, and a session past its retention it keeps is in none of them."""
    from accesslogs.tests.factories import CollectorFactory, sessions_record
    from compliance.tests.factories import LegalHoldFactory
    from devices.services import device_add

    user = VerifiedUserFactory()
    device_add(user=user, mac="02:00:00:00:AB:01", label="Phone")
    now = timezone.now()
    sessions_record(
        CollectorFactory(),
        [
            {"mac": "02:00:00:00:AB:01", "site": "Old", "started_at": now - timedelta(days=70)},
            {"mac": "02:00:00:00:AB:01", "site": "Held", "started_at": now - timedelta(days=20)},
            {"mac": "02:00:00:00:AB:01", "site": "Recent", "started_at": now - timedelta(days=2)},
        ],
    )
    LegalHoldFactory(
        mac="02:00:00:00:AB:01",
        starts_at=now - timedelta(days=80),
        ends_at=now - timedelta(days=10),
        customer_may_be_told=told,
    )
    settings.ACCESS_LOG_RETENTION_MONTHS = 2  # the oldest session is now past its retention
    export, _expected = built_export(user, django_capture_on_commit_callbacks)
    records, rows = _archive_sessions(export)
    python = list(privacy.category("access_logs").export(user))
    client.force_login(user)
    logs_csv = list(csv.DictReader(io.StringIO(b"".join(client.get(reverse("logs:csv")).streaming_content).decode())))

    def ordinary(days: int) -> str:
        return erase_on(now - timedelta(days=days)).isoformat()

    expected = {"Held": "held", "Recent": ordinary(2)} if told else {"Recent": ordinary(2)}
    if told:
        expected["Old"] = "held"
    else:
        expected["Held"] = ordinary(20)
    for source in (records, rows, python):
        assert {r["site"]: r["erased_on"] for r in source} == expected
    assert {r["site"]: r["erased_on"] for r in logs_csv} == expected
