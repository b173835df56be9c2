"""The read replica, on a real streaming standby of the test cluster (the `replica`
fixture, cloudportal/testing/replica.py): which pages read where, a lagging replica
(replay paused) never showing a customer what they removed or erased, and the
portal staying up on the primary when the replica is down."""

from __future__ import annotations

import io
import json
import re
import socket
import time
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal import replica as router
from cloudportal.testing.replica import REPLICA_TESTS
from devices.models import Device
from devices.tests.factories import DeviceFactory
from exports.models import DataExport
from exports.services import export_path, export_request

pytestmark = REPLICA_TESTS

MAC_KEPT, MAC_REMOVED = "00:1A:2B:00:00:01", "00:1A:2B:00:00:02"
SESSION_TABLE = "accesslogs_networksession"
#: The read-only pages whose heavy reads the replica serves.
READ_PAGES = ("logs:csv",)
#: Pages whose parts are kept in the cache: built from the primary (cloudportal/fragments.py).
CACHED_PAGES = ("home", "logs:list", "me:data")


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def sessions_of(user, macs, *, sites=("Gare du Nord",)) -> None:
    """Committed sessions of `user`'s devices (one per MAC address and site)."""
    collector = CollectorFactory()
    started = timezone.now() - timedelta(hours=3)
    for mac in macs:
        DeviceFactory(user=user, mac=mac, label=f"Device {mac[-2:]}")
    sessions_record(
        collector,
        [{"mac": mac, "site": site, "started_at": started} for mac in macs for site in sites],
    )


@pytest.fixture
def customer(replica, client):
    """A signed-in customer with two devices and their sessions, on the primary and,
    once it has replayed them, on the replica."""
    user = VerifiedUserFactory()
    sessions_of(user, [MAC_KEPT, MAC_REMOVED])
    client.force_login(user)
    replica.caught_up()
    return user


def reads(client, name: str) -> tuple[str, list[str], list[str]]:
    """The page's text and the SQL it ran on the replica and on the primary."""
    with (
        CaptureQueriesContext(connections[router.REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
        text = body(response)
    return text, [q["sql"] for q in on_replica], [q["sql"] for q in on_primary]


def test_the_read_only_pages_read_sessions_from_the_replica_and_the_rest_from_the_primary(replica, client, customer):
    for name in READ_PAGES:
        text, on_replica, on_primary = reads(client, name)
        assert MAC_KEPT in text or "Device 01" in text, name
        assert any(SESSION_TABLE in sql for sql in on_replica), (name, on_replica)
        assert not any(SESSION_TABLE in sql for sql in on_primary), (name, on_primary)
    # The pages kept in the cache build what they keep from the primary, and the
    # devices page, where the customer changes things, reads nothing from the replica.
    for name in (*CACHED_PAGES, "devices:list"):
        text, on_replica, _on_primary = reads(client, name)
        assert MAC_REMOVED in text or "Device 01" in text, name
        assert on_replica == [], (name, on_replica)


def test_writes_and_reads_in_a_transaction_stay_on_the_primary(replica, customer):
    from django.db import transaction

    with router.reads_from_replica() as alias:
        assert alias == router.REPLICA
        assert Device.objects.filter(user=customer).db == router.REPLICA
        with transaction.atomic():
            assert Device.objects.filter(user=customer).db == DEFAULT_DB_ALIAS
            assert router.read_alias() == DEFAULT_DB_ALIAS
        assert router.ReplicaRouter().db_for_write(Device) == DEFAULT_DB_ALIAS


def _reauthenticate(client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def test_a_lagging_replica_never_shows_the_customer_a_device_they_removed(replica, client, customer):
    other_client = type(client)()
    other = VerifiedUserFactory()
    sessions_of(other, ["00:1A:2B:00:00:09"])
    other_client.force_login(other)
    replica.caught_up()
    replica.replay_pause()

    _reauthenticate(client)
    device = Device.objects.get(user=customer, mac=MAC_REMOVED)
    response = client.post(reverse("devices:remove", args=[device.pk]), follow=True)  # its message read
    assert response.redirect_chain == [(reverse("devices:list"), 302)]
    # The replica still has it: it lags.
    assert Device.objects.using(router.REPLICA).filter(pk=device.pk).exists()

    # Its sessions stay the customer's (they are linked by subscriber), shown under
    # their MAC address; the device and its name are gone from every page.
    for name in (*READ_PAGES, *CACHED_PAGES, "devices:list"):
        text, on_replica, _ = reads(client, name)
        assert "Device 02" not in text, name
        assert not any(SESSION_TABLE in sql for sql in on_replica), name
    assert MAC_REMOVED not in reads(client, "devices:list")[0]
    assert "1 device on your account" in reads(client, "home")[0]
    # Another customer, who wrote nothing, still reads from the replica.
    text, on_replica, _ = reads(other_client, "logs:csv")
    assert "00:1A:2B:00:00:09" in text and any(SESSION_TABLE in sql for sql in on_replica)

    # Once the replica has replayed the removal, the customer reads from it again.
    replica.replay_resume()
    replica.caught_up()
    text, on_replica, _ = reads(client, "logs:csv")
    assert "Device 02" not in text and any(SESSION_TABLE in sql for sql in on_replica)


def test_the_erasure_receipt_counts_what_the_primary_holds_with_the_replica_behind(replica, client, customer, settings):
    settings.ERASURE_GRACE_HOURS = 0
    address = customer.email
    replica.caught_up()
    replica.replay_pause()
    _reauthenticate(client)
    device = Device.objects.get(user=customer, mac=MAC_REMOVED)
    assert client.post(reverse("devices:remove", args=[device.pk])).status_code == 302
    response = client.post(reverse("me:delete"), {"confirm": "yes"})
    assert response.status_code == 302
    [receipt] = [m for m in mail.outbox if m.to == [address] and "erased your account" in m.body]
    assert re.search(r"Devices\s+- deleted: 1 devices?\n", receipt.body), receipt.body
    # The replica, paused, still holds both devices and the account.
    assert Device.objects.using(router.REPLICA).filter(user_id=customer.pk).count() == 2


def _export_sessions(user) -> list:
    export = DataExport.objects.get(pk=export_request(user=user).pk)
    assert export.status == DataExport.Status.READY, export.status
    with zipfile.ZipFile(io.BytesIO(export_path(export).read_bytes())) as zf:
        data = json.loads(zf.read("data.json"))
    DataExport.objects.filter(pk=export.pk).delete()
    return data["categories"]["access_logs"]["records"]


def test_the_export_reads_the_replica_unless_it_has_not_replayed_the_customers_last_write(replica, customer):
    assert len(_export_sessions(customer)) == 2
    replica.caught_up()
    replica.replay_pause()
    sessions_of(customer, ["00:1A:2B:00:00:03"])  # the network's doing, not the customer's

    assert len(_export_sessions(customer)) == 2  # from the replica, behind
    router.customer_wrote(user_id=customer.pk)
    assert len(_export_sessions(customer)) == 3  # from the primary


def test_the_portal_stays_up_on_the_primary_when_the_replica_is_down(replica, client, customer):
    assert router.replica_for() == router.REPLICA
    replica.halt()
    for name in READ_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        text = body(response)
        assert MAC_KEPT in text or "Device 01" in text, name
        # Remembered as down after the first failure: the next pages go straight to
        # the primary, without trying the replica again.
        assert router.replica_for() is None
    assert len(_export_sessions(customer)) == 2

    replica.start()
    router.replica_reset()
    replica.caught_up()
    _text, on_replica, _ = reads(client, "logs:csv")
    assert any(SESSION_TABLE in sql for sql in on_replica)


def test_a_replica_that_does_not_answer_costs_one_page_the_connect_timeout(replica, client, customer):
    """A replica host that takes the TCP connection but never answers (a hung
    server, a black-holed network): the first page waits the connect timeout, then
    reads from the primary; the next pages do not wait."""
    timeout = connections[router.REPLICA].settings_dict["OPTIONS"]["connect_timeout"]
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepted by the kernel, never answered
        connections[router.REPLICA].close()
        connections[router.REPLICA].settings_dict["PORT"] = str(silent.getsockname()[1])
        for attempt in range(3):
            started = time.monotonic()
            response = client.get(reverse("logs:csv"))
            elapsed = time.monotonic() - started
            assert response.status_code == 200 and MAC_KEPT in body(response)
            if attempt == 0:
                assert timeout - 0.5 <= elapsed < timeout + 5, elapsed
            else:
                assert elapsed < timeout - 0.5, elapsed


def test_an_export_whose_replica_goes_down_midway_is_built_again_from_the_primary(replica, customer, monkeypatch):
    """The standby stops while the export is being written, just before its sessions
    are copied: the build starts again on the primary and the file is complete."""
    from exports import build

    write_category = build.ExportWriter._category_write
    used = []

    def category_write(self, category, *args, **kwargs):
        used.append(router.read_alias())
        if category.key == "access_logs" and replica.is_running():
            replica.halt()
        return write_category(self, category, *args, **kwargs)

    monkeypatch.setattr(build.ExportWriter, "_category_write", category_write)
    assert len(_export_sessions(customer)) == 2
    assert used[0] == router.REPLICA and used[-1] == DEFAULT_DB_ALIAS
    assert router.replica_for() is None
