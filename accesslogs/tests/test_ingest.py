"""Ingest (SPEC §5): the API and the command share one code path and its rules."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accesslogs.ingest import IngestError, check, rewinding, sessions_ingest
from accesslogs.models import Collector, DailyUsage, IngestBatch, NetworkSession
from accesslogs.services import collector_create, collector_revoke
from accesslogs.tests.factories import sessions_csv, sessions_record
from accounts.tests.factories import VerifiedUserFactory
from devices.models import Device

URL = "/api/ingest/sessions"
pytestmark = pytest.mark.django_db


def _moment(hours_ago: float) -> str:
    return (timezone.now() - timedelta(hours=hours_ago)).replace(microsecond=0).isoformat()


def session(n: int, **values) -> dict:
    row = {
        "session_id": f"s-{n}",
        "mac": "02:00:00:00:00:01",
        "ip": "10.0.0.1",
        "site": "Gare de Lyon, hall 1",
        "site_address": "Place Louis-Armand, 75012 Paris",
        "started_at": _moment(48 + n),
        "ended_at": _moment(47 + n),
        "bytes_in": "1000",
        "bytes_out": "2000",
    }
    row.update(values)
    return row


def as_ndjson(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def collector():
    return collector_create(name="paris-gdl-1")


def post(client, token: str, body: bytes, content_type="text/csv"):
    return client.post(URL, body, content_type=content_type, headers={"Authorization": f"Bearer {token}"})


def test_a_batch_is_stored_and_counted(client, collector):
    _collector, token = collector
    response = post(client, token, sessions_csv([session(n) for n in range(5)]))
    assert response.status_code == 200
    assert response.json() == {"accepted": 5, "duplicates": 0}
    assert NetworkSession.objects.count() == 5
    stored = NetworkSession.objects.get(session_id="s-0")
    assert (stored.mac, stored.ip, stored.bytes_in, stored.site.name) == (
        "02:00:00:00:00:01",
        "10.0.0.1",
        1000,
        "Gare de Lyon, hall 1",
    )
    assert stored.site.address == "Place Louis-Armand, 75012 Paris"


def test_ip_addresses_are_stored_in_their_canonical_form(collector):
    rows = [session(1, ip="2001:DB8:0:0::0:1"), session(2, ip="192.0.2.255"), session(3, ip="::ffff:192.0.2.1")]
    sessions_record(collector[0], rows)
    stored = set(NetworkSession.objects.values_list("ip", flat=True))
    assert stored == {"2001:db8::1", "192.0.2.255", "::ffff:192.0.2.1"}


def test_ndjson_is_accepted_with_numbers_as_numbers(client, collector):
    _collector, token = collector
    rows = [session(n, bytes_in=10, bytes_out=20, mac="aabb.ccdd.ee02") for n in range(3)]
    response = post(client, token, as_ndjson(rows), "application/x-ndjson")
    assert response.json() == {"accepted": 3, "duplicates": 0}
    assert set(NetworkSession.objects.values_list("mac", flat=True)) == {"AA:BB:CC:DD:EE:02"}


BAD_ROWS = [
    ("mac", {"mac": "zz:zz"}),
    ("mac", {"mac": "ff:ff:ff:ff:ff:ff"}),
    ("ip", {"ip": "300.1.2.3"}),
    ("ip", {"ip": "010.0.0.1"}),
    ("ip", {"ip": "1.2.3"}),
    ("ended_at", {"started_at": _moment(10), "ended_at": _moment(11)}),
    ("bytes_in", {"bytes_in": "-5"}),
    ("bytes_out", {"bytes_out": "lots"}),
    ("site", {"site": ""}),
    ("started_at", {"started_at": "2026-02-30T10:00:00+01:00"}),
    ("started_at", {"started_at": "yesterday"}),
    ("started_at", {"started_at": "2026-03-01T10:00:00"}),
    ("started_at", {"started_at": _moment(24 * 400), "ended_at": _moment(24 * 399)}),
    ("ended_at", {"ended_at": _moment(-48)}),
    ("session_id", {"session_id": "has space"}),
]


@pytest.mark.parametrize(("field", "bad"), BAD_ROWS, ids=[f"{f}-{i}" for i, (f, _b) in enumerate(BAD_ROWS)])
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_one_bad_row_refuses_the_batch_naming_its_line(client, collector, field, bad, fmt):
    _collector, token = collector
    rows = [session(n) for n in range(6)]
    rows[3] = session(3, **bad)
    if fmt == "csv":
        response = post(client, token, sessions_csv(rows))
        line = 5  # the header is line 1
    else:
        response = post(client, token, as_ndjson(rows), "application/x-ndjson")
        line = 4
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and errors[0]["line"] == line and errors[0]["field"] == field, errors
    assert errors[0]["message"]
    assert NetworkSession.objects.count() == 0


def test_a_missing_field_is_named(client, collector):
    _collector, token = collector
    rows = [session(n) for n in range(3)]
    del rows[1]["ip"]
    response = post(client, token, as_ndjson(rows), "application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"line": 2, "field": "ip", "message": "This field is required."}]
    body = sessions_csv([session(1)]).replace(b",ip,", b",address,")
    response = post(client, token, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 1
    assert "ip" in response.json()["errors"][0]["message"]
    assert NetworkSession.objects.count() == 0


def test_every_bad_line_is_listed(client, collector):
    _collector, token = collector
    rows = [session(n, ip="nope" if n % 2 else "10.0.0.1") for n in range(6)]
    errors = post(client, token, sessions_csv(rows)).json()["errors"]
    assert [e["line"] for e in errors] == [3, 5, 7]


def test_a_bad_row_after_rows_already_copied_stores_nothing(collector, monkeypatch):
    """Batches are written in chunks: a late bad row still rolls back the early ones."""
    monkeypatch.setattr(check, "CHUNK_ROWS", 4)
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac="02:00:00:00:00:01")
    rows = [session(n) for n in range(20)] + [session(99, bytes_in="-1")]
    with pytest.raises(IngestError) as refused:
        sessions_record(collector[0], rows)
    assert refused.value.errors[0]["line"] == 22
    assert NetworkSession.objects.count() == 0
    assert DailyUsage.objects.count() == 0
    assert Device.objects.get().last_seen_at is None


def test_a_replay_stores_nothing_twice(client, collector, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(check, "CHUNK_ROWS", 3)
    _collector, token = collector
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac="02:00:00:00:00:01")
    first = [session(n) for n in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, token, sessions_csv(first)).json() == {"accepted": 7, "duplicates": 0}
        # The same batch again, then one that overlaps it and repeats a row of its own.
        assert post(client, token, sessions_csv(first)).json() == {"accepted": 0, "duplicates": 7}
        overlap = first[4:] + [session(n) for n in range(7, 10)] + [session(8)]
        assert post(client, token, sessions_csv(overlap)).json() == {"accepted": 3, "duplicates": 4}
    assert NetworkSession.objects.count() == 10
    assert IngestBatch.objects.filter(rolled_up_at__isnull=False).count() == 2  # a batch of only replays is none
    usage = DailyUsage.objects.filter(user=owner)
    assert sum(u.sessions for u in usage) == 10
    assert sum(u.bytes_in for u in usage) == 10 * 1000
    assert sum(u.seconds for u in usage) == 10 * 3600


def test_the_same_session_id_from_another_collector_is_another_session(client, collector):
    _collector, token = collector
    _other, other_token = collector_create(name="lyon-part-dieu")
    post(client, token, sessions_csv([session(1)]))
    assert post(client, other_token, sessions_csv([session(1)])).json() == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def test_daily_usage_matches_the_sessions_it_sums(collector, settings, zone):
    """Ingest keeps the rollup in Python; it must agree with the sessions in SQL, also
    in zones whose offset is not a whole number of hours."""
    settings.TIME_ZONE = zone
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac="02:00:00:00:00:01")
    Device.objects.create(user=owner, mac="02:00:00:00:00:02")
    rows = [
        session(n, mac=f"02:00:00:00:00:0{n % 2 + 1}", started_at=_moment(n * 1.25 + 1), ended_at=_moment(n * 1.25))
        for n in range(200)
    ]
    rows[0]["started_at"] = (timezone.now() - timedelta(hours=30)).astimezone(timezone.get_fixed_timezone(-300))
    rows[0]["started_at"] = rows[0]["started_at"].replace(microsecond=0).isoformat()
    sessions_record(collector[0], rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT mac, (started_at AT TIME ZONE %s)::date, count(*), sum(bytes_in), "
            "sum(extract(epoch from ended_at - started_at))::bigint "
            "FROM accesslogs_networksession s JOIN accesslogs_subscriber a ON a.id = s.subscriber_id "
            "WHERE a.user_id = %s GROUP BY 1, 2",
            [zone, owner.pk],
        )
        expected = {(mac, day): (n, b, s) for mac, day, n, b, s in cursor.fetchall()}
    usage = {(u.mac, u.day): (u.sessions, u.bytes_in, u.seconds) for u in DailyUsage.objects.filter(user=owner)}
    assert usage == expected


def test_sessions_are_attributed_when_recorded_never_after(collector):
    owner, later = VerifiedUserFactory(), VerifiedUserFactory()
    mac = "02:00:00:00:00:07"

    def record(n):
        sessions_record(collector[0], [session(n, mac=mac)])

    record(1)  # nobody holds the address yet
    device = Device.objects.create(user=owner, mac=mac)
    record(2)
    device.delete()
    Device.objects.create(user=later, mac=mac)
    record(3)
    old_email = owner.email
    owner.email = "renamed@example.net"
    owner.save()
    Device.objects.create(user=owner, mac="02:00:00:00:00:08")
    sessions_record(collector[0], [session(4, mac="02:00:00:00:00:08")])
    attributed = dict(NetworkSession.objects.values_list("session_id", "subscriber__user_id"))
    assert attributed == {"s-1": None, "s-2": owner.pk, "s-3": later.pk, "s-4": owner.pk}
    # Each session keeps the email its account had when it was recorded.
    emails = dict(NetworkSession.objects.values_list("session_id", "subscriber__email"))
    assert emails == {"s-1": None, "s-2": old_email, "s-3": later.email, "s-4": "renamed@example.net"}
    assert Device.objects.get(user=later).last_seen_at is not None


def test_an_account_deleted_any_other_way_leaves_its_sessions_detached(collector):
    owner = VerifiedUserFactory()
    Device.objects.create(user=owner, mac="02:00:00:00:00:09")
    sessions_record(collector[0], [session(1, mac="02:00:00:00:00:09")])
    owner.delete()
    stored = NetworkSession.objects.select_related("subscriber").get(session_id="s-1")
    assert stored.subscriber.user_id is None and stored.subscriber.email == ""


def test_quoted_csv_fields_and_other_column_orders(collector):
    rows = [session(1, site='Café "Le Nord", terrasse', site_address="12, rue du Nord\nParis")]
    body = sessions_csv(rows)
    header, rest = body.split(b"\n", 1)
    columns = header.decode().split(",")
    reordered = io.StringIO()
    import csv

    writer = csv.DictWriter(reordered, fieldnames=list(reversed(columns)), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    result = sessions_ingest(
        collector=collector[0], source=rewinding(io.BytesIO(reordered.getvalue().encode())), fmt="csv"
    )
    assert result.accepted == 1
    stored = NetworkSession.objects.select_related("site").get()
    assert stored.site.name == 'Café "Le Nord", terrasse'
    assert stored.site.address == "12, rue du Nord\nParis"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer cpc_not-a-token", "Basic dXNlcjpwYXNz", "cpc_token-without-scheme"],
)
def test_a_missing_or_wrong_token_gets_401(client, collector, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(URL, sessions_csv([session(1)]), content_type="text/csv", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert NetworkSession.objects.count() == 0


def test_a_revoked_token_gets_401(client, collector):
    found, token = collector
    assert post(client, token, sessions_csv([session(1)])).status_code == 200
    collector_revoke(collector=found)
    assert post(client, token, sessions_csv([session(2)])).status_code == 401
    assert NetworkSession.objects.count() == 1


def test_tokens_are_stored_hashed(collector):
    found, token = collector
    stored = Collector.objects.get(pk=found.pk)
    assert token not in (stored.token_hash, stored.token_prefix)
    assert stored.token_prefix == token[:10]


def test_other_methods_types_and_sizes_are_refused_clearly(client, collector, settings):
    _collector, token = collector
    assert client.get(URL, headers={"Authorization": f"Bearer {token}"}).status_code == 405
    response = post(client, token, b'{"a": 1}', "application/json")
    assert response.status_code == 415
    assert "text/csv" in response.json()["errors"][0]["message"]
    settings.INGEST_MAX_BYTES = 100
    response = post(client, token, sessions_csv([session(n) for n in range(5)]))
    assert response.status_code == 413
    assert NetworkSession.objects.count() == 0
    assert post(client, token, b"\xff\xfe not utf-8").status_code == 400


def test_the_command_uses_the_same_rules(tmp_path, collector, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(sessions_csv([session(n) for n in range(4)]))
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(as_ndjson([session(10), session(11, ip="10.0.0")]))
    with pytest.raises(CommandError, match="1 of 2 files refused"):
        call_command("ingest_sessions", "--collector", "paris-gdl-1", str(good), str(bad))
    out, err = capsys.readouterr()
    assert "4 accepted, 0 duplicates" in out
    assert "line 2, ip" in err
    assert NetworkSession.objects.count() == 4
    call_command("ingest_sessions", "--collector", "paris-gdl-1", str(good))
    assert "0 accepted, 4 duplicates" in capsys.readouterr().out


def test_the_command_refuses_unknown_and_revoked_collectors(tmp_path, collector):
    path = tmp_path / "s.csv"
    path.write_bytes(sessions_csv([session(1)]))
    with pytest.raises(CommandError, match="No collector"):
        call_command("ingest_sessions", "--collector", "nobody", str(path))
    collector_revoke(collector=collector[0])
    with pytest.raises(CommandError, match="revoked"):
        call_command("ingest_sessions", "--collector", "paris-gdl-1", str(path))


def test_create_collector_prints_a_working_token_once(client, capsys):
    call_command("create_collector", "roissy-t2")
    out, err = capsys.readouterr()
    token = out.strip()
    assert "will not be shown again" in err
    assert post(client, token, sessions_csv([session(1)])).json() == {"accepted": 1, "duplicates": 0}
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_collector", "roissy-t2")
