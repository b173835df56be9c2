"""A legal hold seen from everywhere the customer looks (SPEC §3 One truth, §4 Legal
holds): a secret hold of any scope changes nothing the customer can see, in any page,
CSV, export file, email or receipt; a hold they may be told of says "held" in each.

Two customers with the same devices, sessions and history, each in their own
addresses: A is never held; B is put under a hold of one scope, a Support agent then
opens B's record in the admin, and the retention sweep runs. Everything each of them
can see is gathered (their pages, the /logs/ CSV, their data export's files, every
email they were sent, and the receipt of their account's erasure) and B's, with B's
own addresses, ids, CSRF tokens and the moments "just now" written as A's, must be
A's. The retention period is two months, so that the oldest sessions are past it and
a hold keeps them."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.groups import SUPPORT
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from cloudportal.months import add_months
from compliance.tests.factories import LegalHoldFactory
from devices.models import Device
from devices.services import device_add, device_remove
from erasure.models import ErasureRequest
from erasure.services import account_erase
from exports.models import DataExport
from exports.services import export_path, export_request
from portal.sweep import retention_sweep

pytestmark = pytest.mark.django_db

PAGES = (
    "home",
    "logs:list",
    "logs:csv",
    "me:profile",
    "me:data",
    "me:activity",
    "me:requests",
    "disclosures",
    "me:delete",
    "devices:list",
)
SCOPES = ["account", "mac", "past-mac", "ip", "time-range"]


class Customer:
    """One of the two customers, with their own addresses."""

    def __init__(self, name: str, n: int) -> None:
        self.user = VerifiedUserFactory(email=f"{name}@example.org")
        self.macs = {role: f"02:0{n}:00:00:00:{i:02X}" for i, role in enumerate(("phone", "laptop", "old"), 1)}
        self.ips = {role: f"198.51.10{n}.{i}" for i, role in enumerate(("home", "work"), 1)}
        self.client = Client()

    def replacements(self) -> list[tuple[str, str]]:
        pairs = [(self.user.email, "EMAIL")]
        pairs += [(mac, f"MAC-{role}") for role, mac in self.macs.items()]
        pairs += [(ip, f"IP-{role}") for role, ip in self.ips.items()]
        return pairs


def _sessions(customer: Customer, now: datetime, cutoff: datetime) -> list[dict]:
    """The same sessions for each customer, in their addresses: some past the
    retention cutoff (one on its very day), some within it."""
    mac, ip = customer.macs, customer.ips
    rows = []
    for days, device, address in ((80, "phone", "home"), (70, "phone", "home"), (75, "laptop", "work")):
        rows.append({"mac": mac[device], "ip": ip[address], "started_at": now - timedelta(days=days)})
    rows.append({"mac": mac["phone"], "ip": ip["home"], "started_at": cutoff - timedelta(minutes=40)})
    for days, device, address in ((30, "phone", "home"), (10, "laptop", "work"), (2, "phone", "home")):
        rows.append({"mac": mac[device], "ip": ip[address], "started_at": now - timedelta(days=days)})
    for row in rows:
        row["ended_at"] = row["started_at"] + timedelta(minutes=25)
    return rows


def _world(settings, scope: str, *, told: bool) -> tuple[Customer, Customer, object]:
    """A and B, each step done for both in turn, so that their moments match."""
    now = timezone.now()
    a, b = Customer("ada", 1), Customer("bea", 2)
    collector = CollectorFactory()
    support = StaffUserFactory()
    support.groups.add(Group.objects.get(name=SUPPORT))
    staff = Client()
    staff.force_login(support)
    cutoff_then = add_months(now, -2)  # the cutoff once retention is two months
    for c in (a, b):
        device_add(user=c.user, mac=c.macs["phone"], label="Phone")
        device_add(user=c.user, mac=c.macs["laptop"], label="Laptop")
        device_add(user=c.user, mac=c.macs["old"], label="Old phone")
        rows = _sessions(c, now, cutoff_then)
        old = {"mac": c.macs["old"], "ip": c.ips["home"], "started_at": now - timedelta(days=72)}
        old["ended_at"] = old["started_at"] + timedelta(minutes=25)
        sessions_record(collector, [*rows, old])
        device_remove(device=Device.objects.get(user=c.user, mac=c.macs["old"]), actor=c.user)
        assert staff.get(reverse("admin:accounts_user_change", args=[c.user.pk])).status_code == 200
    settings.ACCESS_LOG_RETENTION_MONTHS = 2

    # B only: the hold, then the staff views it hides.
    since = {"starts_at": now - timedelta(days=100), "customer_may_be_told": told}
    if scope == "account":
        hold = LegalHoldFactory(scope="account", account=b.user, mac="", **since)
    elif scope in ("mac", "past-mac"):
        hold = LegalHoldFactory(mac=b.macs["phone" if scope == "mac" else "old"], **since)
    elif scope == "ip":
        hold = LegalHoldFactory(scope="ip", mac="", ip=b.ips["home"], **since)
    else:  # who used this address at one instant, 70 days ago
        instant = now - timedelta(days=70, minutes=-10)
        hold = LegalHoldFactory(
            scope="ip", mac="", ip=b.ips["home"], starts_at=instant, ends_at=instant, customer_may_be_told=told
        )
    assert staff.get(reverse("admin:accounts_user_change", args=[b.user.pk])).status_code == 200
    assert staff.get(reverse("admin:accounts_profile_changelist")).status_code == 200

    retention_sweep(now=timezone.now())
    for c in (a, b):
        response = c.client.post(reverse("account_login"), {"login": c.user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 302, response.content
        response = c.client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
        assert response.status_code == 302, response.content
    return a, b, hold


_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|(csrf[-_]token"? content=")[^"]+')
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?")
_TIME_ELEMENT = re.compile(r'<time datetime="([^"]+)">[^<]*</time>')


def _recent(text: str) -> bool:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment)
    return abs(moment - timezone.now()) < timedelta(hours=1)


def _ids_pattern(old: str) -> str:
    """Where a row's id shows: in a URL's path or query, a form's value, an element's
    id or data attribute, data.json's account id."""
    return (
        rf"(?<=/devices/){old}(?=/)|(?<=/export/){old}(?=/)|(?<=device[-=]){old}\b"
        rf'|(?<=value="){old}(?=")|(?<=sessions="){old}(?=")|(?<="account_id": ){old}\b'
    )


def _minutes_now() -> list[str]:
    """The last few minutes as pages and files print them (an entry made in this test,
    the moment an export was made), and the same a week on (until when it is valid)."""
    now = timezone.localtime()
    anchors = (now, now + timedelta(days=settings.EXPORT_VALID_DAYS))
    moments = [at - timedelta(minutes=n) for at in anchors for n in range(-2, 8)]
    return [text for m in moments for text in (date_format(m, "DATETIME_FORMAT"), f"{m:%Y-%m-%d %H:%M}")]


def _normal(text: str, customer: Customer, ids: dict[str, str]) -> str:
    """The text as A would read it: the customer's own addresses by role, ids of
    their rows, CSRF tokens, and the moments of the last hour, made neutral."""
    for old, new in customer.replacements():
        text = text.replace(old, new)
    for old, new in ids.items():
        text = re.sub(_ids_pattern(old), new, text)
    text = _CSRF.sub(lambda m: (m.group(1) or m.group(2)) + "TOKEN", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "SHA-256", text)  # of the export's file: its ids and times differ
    text = _TIME_ELEMENT.sub(lambda m: "<time>RECENT</time>" if _recent(m.group(1)) else m.group(0), text)
    for moment in _minutes_now():
        text = text.replace(moment, "RECENT")
    return _ISO.sub(lambda m: "RECENT" if _recent(m.group(0)) else m.group(0), text)


def _ids(customer: Customer) -> dict[str, str]:
    user = customer.user
    ids = {str(user.pk): "USER"}
    for device in Device.objects.filter(user=user):
        ids[str(device.pk)] = f"DEVICE-{device.label}"
    for n, export in enumerate(DataExport.objects.filter(user=user).order_by("pk")):
        ids[str(export.pk)] = f"EXPORT-{n}"
    return ids


def _export(customer: Customer, capture) -> dict[str, str]:
    with capture(execute=True):
        export = export_request(user=customer.user)
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    with zipfile.ZipFile(io.BytesIO(export_path(export).read_bytes())) as zf:
        files = {name: zf.read(name).decode() for name in zf.namelist()}
    del files["manifest.json"]  # SHA-256 of the files: differs whenever they do
    data = json.loads(files.pop("data.json"))
    files["data.json"] = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)
    return files


def _emails(email: str) -> list[tuple[str, ...]]:
    """Every email to the address: those sent (the export's, the receipt), then those
    still waiting in the outbox (queued outside a commit in this test)."""
    sent = [(m.subject, m.body, *(body for body, _type in m.alternatives)) for m in mail.outbox if m.to == [email]]
    waiting = [
        (e.template, e.subject, e.body_text, e.body_html)
        for e in OutboundEmail.objects.filter(to=email, status=OutboundEmail.Status.PENDING).order_by(
            "created_at", "id"
        )
    ]
    return sent + waiting


def _everything(customer: Customer, capture) -> dict[str, object]:
    """All that the customer can see, as they see it, then their erasure's receipt."""
    seen: dict[str, object] = {}
    for name in PAGES:
        response = customer.client.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        seen[name] = body.decode()
    seen.update({f"export {k}": v for k, v in _export(customer, capture).items()})
    email, ids = customer.user.email, _ids(customer)
    request = ErasureRequest.objects.create(user=customer.user, requested_at=timezone.now(), erase_after=timezone.now())
    with capture(execute=True):
        account_erase(request_id=request.pk)
    assert not User.objects.filter(pk=customer.user.pk).exists()
    seen["emails"] = "\n\n".join("\n".join(str(part) for part in e) for e in _emails(email))
    return {key: _normal(value, customer, ids) for key, value in seen.items()}


@pytest.fixture
def seen(settings, tmp_path, django_capture_on_commit_callbacks):
    """seen(scope, told) -> what A and B see, and B's hold."""
    settings.ERASURE_LEDGER_PATH = tmp_path / "ledger.jsonl"
    # Ids are made neutral by value (`_ids`): a device or an export whose id is also
    # an account's would read as that account in one world and not in the other.
    # Their ids are moved far past the accounts' (sequences outlive the test).
    with connection.cursor() as cursor:
        for table, start in ((Device._meta.db_table, 10_000_000), (DataExport._meta.db_table, 20_000_000)):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, GREATEST(nextval({sequence}), %s))", [start])  # noqa: S608

    def world_seen(scope: str, *, told: bool):
        a, b, hold = _world(settings, scope, told=told)
        return (
            _everything(a, django_capture_on_commit_callbacks),
            _everything(b, django_capture_on_commit_callbacks),
            hold,
        )

    return world_seen


@pytest.mark.parametrize("scope", SCOPES)
def test_a_secret_hold_of_any_scope_changes_nothing_the_customer_can_see(seen, scope):
    seen_a, seen_b, _hold = seen(scope, told=False)
    for key in seen_a:
        assert seen_b[key] == seen_a[key], key
    assert "Held" not in seen_b["logs:list"] and "legal hold" not in seen_b["me:activity"].lower()
    assert "5 of your sessions were erased" in seen_a["emails"]  # the sweep's notice: the same for B


@pytest.mark.parametrize("scope", SCOPES)
def test_a_hold_the_customer_may_know_of_says_held_everywhere(seen, scope):
    seen_a, seen_b, hold = seen(scope, told=True)
    assert "held" not in seen_a["export access_logs.csv"]
    assert "Held (legal hold)" in seen_b["logs:list"] and ",held\r\n" in seen_b["logs:csv"]
    assert ",held\n" in seen_b["export access_logs.csv"] and '"held"' in seen_b["export data.json"]
    assert hold.authority in seen_b["me:data"]  # under Legal holds
    if scope not in ("past-mac", "time-range"):  # these hold none of the three newest, the sample's
        assert "Held (legal hold)" in seen_b["me:data"]
    assert "under a legal hold from an authority" in seen_b["me:delete"]
    assert "under a legal hold from an authority" in seen_b["emails"]  # the receipt
    # What B was told was erased leaves out what B still sees, held.
    assert seen_b["emails"] != seen_a["emails"]
