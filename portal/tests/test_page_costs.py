"""What each signed-in page costs in SQL queries, and that the figures it shows are
never stale: the query count of a page is fixed, whatever the customer's number of
devices, sessions or the registry's number of categories; and the counts the
dashboard and "What we hold" show change at once when the data does."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import VerifiedUserFactory
from cloudportal import privacy
from cloudportal.privacy import Category, Count
from devices.models import Device
from devices.tests.factories import DeviceFactory, mac_for

pytestmark = pytest.mark.django_db

#: Queries of each page once the session is warm (after the first request, which also
#: records the sign-in session's activity): the session itself comes from the cache.
PAGE_QUERIES = {
    # none: the user (accounts/backends.py) and the whole page
    # (cloudportal/core/customer_pages.py) come from the cache
    "/": 0,
    "/logs/": 0,
    "/me/data/": 0,
    "/devices/": 0,
    "/me/activity/": 0,
}


def customer_with(devices: int, sessions_each: int, *, first_mac: int = 1):
    """A customer with devices mac_for(first_mac), mac_for(first_mac + 1), … and
    `sessions_each` sessions of each, one a day."""
    user = VerifiedUserFactory()
    collector = CollectorFactory()
    now = timezone.now()
    rows = []
    for n in range(devices):
        device = DeviceFactory(user=user, mac=mac_for(first_mac + n), label=f"Device {n + 1}")
        rows += [
            {"mac": device.mac, "started_at": now - timedelta(days=d + 1, hours=n), "ip": f"192.0.2.{n + 1}"}
            for d in range(sessions_each)
        ]
    if rows:
        sessions_record(collector, rows)
    return user


#: Queries of a page whose cached parts must be built again (after a change).
BUILD_QUERIES = {
    # the user; requests, devices, subscribers, holds told of, 3 sessions, the usage
    # chart; the holds and what the activity history conceals (4), every category's counts (1)
    "/": 12,
    # the user; what the history conceals (3), the counts (1), then each category's sample
    "/me/data/": 22,
    # the user; the devices, their usage charts
    "/devices/": 3,
    # the user; devices, holds told of, subscribers, the page, the totals
    "/logs/": 6,
    # the user; what the history conceals (3), the count and the page of events
    "/me/activity/": 5,
}


def queries_of(client, django_assert_num_queries, path: str) -> int:
    client.get(path)  # the first request records the sign-in session's activity,
    client.get(path)  # which replaces the customer's token: the user is kept again
    with django_assert_num_queries(PAGE_QUERIES[path]) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", list(BUILD_QUERIES))
def test_building_a_page_s_cached_parts_costs_the_same_queries_however_much_data(
    client, django_assert_num_queries, extra_categories, path
):
    from cloudportal.fragments import customer_changed

    def built(user) -> int:
        client.get(path)
        customer_changed(user.pk)
        with django_assert_num_queries(BUILD_QUERIES[path]) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    small = customer_with(devices=1, sessions_each=1)
    client.force_login(small)
    counts = {"one device": built(small)}
    large = customer_with(devices=5, sessions_each=30, first_mac=100)
    client.force_login(large)
    counts["five devices, 150 sessions"] = built(large)
    extra_categories(5)
    counts["five more categories"] = built(large)
    assert set(counts.values()) == {BUILD_QUERIES[path]}, counts


@pytest.fixture
def extra_categories():
    """Registers n more categories, each with figures (a count, a sum): gone after."""
    added: list[str] = []

    def register(n: int) -> None:
        for i in range(n):
            key = f"zz_extra_{len(added)}"
            privacy.register(
                Category(
                    key=key,
                    label=f"Extra {i}",
                    description="",
                    fields=(),
                    purpose="",
                    legal_basis="",
                    retention="",
                    storage="",
                    processors=(),
                    correction="",
                    models=(),
                    columns=(),
                    counts=lambda user: [
                        Count("devices", Device.objects.filter(user=user)),
                        Count("labelled", Device.objects.filter(user=user).exclude(label="")),
                    ],
                    sample=lambda user: [],
                    export=lambda user: [],
                    erase=lambda user: privacy.ErasureResult(),
                )
            )
            added.append(key)

    yield register
    for key in added:
        privacy._registry.pop(key, None)


@pytest.mark.parametrize("path", list(PAGE_QUERIES))
def test_a_page_costs_the_same_queries_for_one_device_or_five_and_for_more_categories(
    client, django_assert_num_queries, extra_categories, path
):
    small = customer_with(devices=1, sessions_each=1)
    client.force_login(small)
    counts = {"one device": queries_of(client, django_assert_num_queries, path)}
    large = customer_with(devices=5, sessions_each=30, first_mac=100)
    client.force_login(large)
    counts["five devices, 150 sessions"] = queries_of(client, django_assert_num_queries, path)
    extra_categories(5)
    counts["five more categories"] = queries_of(client, django_assert_num_queries, path)
    assert set(counts.values()) == {PAGE_QUERIES[path]}, counts


# --- The figures change at once -----------------------------------------------------


def figures(client) -> dict:
    """What the dashboard and "What we hold" say of the signed-in customer: the devices
    card, the labels of the categories held, and each category's figures."""
    dashboard = client.get("/").text
    held = client.get(reverse("me:data")).text
    card = re.search(r"What we hold</a></h2>(.*?)</li>\s*(?:<li class=\"card|</ul>\s*$)", dashboard, re.DOTALL)
    card = card.group(1) if card else dashboard.split("What we hold</a></h2>", 1)[1].split("</ul>", 1)[0]
    return {
        "devices card": re.search(r"(\d+) devices? on your account|Add your devices", dashboard).group(0),
        "categories held": re.findall(r"<li>([^<]+)</li>", card),
        "counts": re.findall(r'<strong data-count="([a-z_]+)">(\d+)</strong>', held),
    }


def count_of(found: dict, key: str) -> list[int]:
    return [int(value) for name, value in found["counts"] if name == key]


def test_the_figures_change_at_once_when_a_device_is_added_or_removed(client):
    from devices.services import device_add, device_remove

    user = customer_with(devices=1, sessions_each=0)
    client.force_login(user)
    before = figures(client)
    assert before["devices card"] == "1 device on your account"
    device = device_add(user=user, mac=mac_for(9), label="New")
    after = figures(client)
    assert after["devices card"] == "2 devices on your account"
    assert count_of(after, "devices") == [2]
    device_remove(device=device, actor=user)
    device_remove(device=Device.objects.get(user=user), actor=user)
    gone = figures(client)
    assert gone["devices card"] == "Add your devices"
    assert count_of(gone, "devices") == [0]
    assert "Devices" in before["categories held"] and "Devices" not in gone["categories held"]


def test_the_figures_change_at_once_when_sessions_are_ingested_and_rolled_up(client):
    user = customer_with(devices=2, sessions_each=0)
    client.force_login(user)
    before = figures(client)
    assert count_of(before, "access_logs") == [0, 0]
    sessions_record(CollectorFactory(), [{"mac": mac_for(1)}, {"mac": mac_for(1)}, {"mac": mac_for(2)}])
    after = figures(client)
    assert count_of(after, "access_logs") == [3, 2]  # sessions, devices seen
    assert "Access logs" not in before["categories held"] and "Access logs" in after["categories held"]
    assert "No network session recorded for you yet." not in client.get("/").text


def test_the_figures_change_at_once_when_a_profile_field_is_cleared(client):
    from accounts.services import profile_update

    user = customer_with(devices=0, sessions_each=0)
    client.force_login(user)
    profile_update(user=user, actor=user, data={"full_name": "Ada Example", "city": "Paris", "iban": ""})
    assert count_of(figures(client), "profile") == [2]
    profile_update(user=user, actor=user, data={"full_name": "Ada Example", "city": "", "iban": ""})
    assert count_of(figures(client), "profile") == [1]
    profile_update(user=user, actor=user, data={"full_name": "", "city": "", "iban": ""})
    after = figures(client)
    assert count_of(after, "profile") == [0]


def test_nothing_of_an_erased_account_is_shown_or_counted(client, settings, django_capture_on_commit_callbacks):
    from erasure.services import account_delete_request

    settings.ERASURE_GRACE_HOURS = 0
    user = customer_with(devices=2, sessions_each=3)
    client.force_login(user)
    assert count_of(figures(client), "devices") == [2]
    with django_capture_on_commit_callbacks(execute=True):
        account_delete_request(user=user)
    assert 'data-page="landing"' in client.get("/").text  # signed out: the visitors' page
    response = client.get(reverse("me:data"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert all(n.value == 0 for counts in privacy.counts_of(user).values() for n in counts if n.label != "settings")


def _rows(client) -> str:
    """The rows of /logs/ (its table body)."""
    return client.get("/logs/").text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_a_hold_the_customer_may_be_told_of_shows_at_once_and_goes_when_lifted(client):
    from compliance.services import legal_hold_lift
    from compliance.tests.factories import LegalHoldFactory

    user = customer_with(devices=1, sessions_each=2)
    client.force_login(user)
    before = figures(client)
    assert count_of(before, "legal_holds") == [0]
    assert "Held (legal hold)" not in client.get("/logs/").text
    hold = LegalHoldFactory(mac=mac_for(1), customer_may_be_told=True)
    held = figures(client)
    assert count_of(held, "legal_holds") == [1]
    assert "Legal holds" not in before["categories held"] and "Legal holds" in held["categories held"]
    assert _rows(client).count("Held (legal hold)") == 2
    legal_hold_lift(hold=hold, staff=hold.created_by, reason="Case closed")
    assert "Held (legal hold)" not in _rows(client)


def test_a_secret_hold_changes_nothing_the_customer_sees(client):
    from compliance.tests.factories import LegalHoldFactory

    user = customer_with(devices=1, sessions_each=2)
    client.force_login(user)

    def seen() -> dict:
        pages = {path: client.get(path).text for path in PAGE_QUERIES}
        return {path: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text) for path, text in pages.items()} | {
            "figures": figures(client)
        }

    before = seen()
    LegalHoldFactory(mac=mac_for(1), customer_may_be_told=False)
    LegalHoldFactory(scope="ip", mac="", ip="192.0.2.1", customer_may_be_told=False)
    assert seen() == before


def test_new_sessions_show_on_the_sessions_page_as_soon_as_their_batch_commits(client, monkeypatch):
    """Before the rollup has run (it is stopped here): ingest itself replaces the
    batch's customers' tokens once the batch commits."""
    from accesslogs.ingest import write

    user = customer_with(devices=1, sessions_each=1)
    client.force_login(user)
    assert _rows(client).count("<tr") == 1
    monkeypatch.setattr(write, "queue_on_commit", lambda *args, **kwargs: None)  # no rollup
    sessions_record(CollectorFactory(), [{"mac": mac_for(1), "ip": "192.0.2.77"}])
    assert _rows(client).count("<tr") == 2 and "192.0.2.77" in _rows(client)


def test_an_invalid_filter_is_answered_afresh_and_never_kept(client):
    user = customer_with(devices=1, sessions_each=1)
    client.force_login(user)
    bad = client.get("/logs/?date_from=2026-13-40")
    assert bad.status_code == 400
    assert client.get("/logs/?date_from=2026-13-40").status_code == 400
    assert client.get("/logs/").status_code == 200
