"""Staff and access logs in the admin: Support views sessions (and each view is in the
customer's history), the list never counts the whole table, and superusers create
collectors (token shown once, only its hash stored) and revoke them."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accesslogs.models import Collector, NetworkSession
from accounts.groups import SUPPORT
from accounts.models import ActivityEvent
from accounts.tests.factories import StaffUserFactory, SuperuserFactory
from cloudportal.core.pagination import CappedCountPaginator
from devices.tests.factories import DeviceFactory

from .factories import sessions_record

pytestmark = pytest.mark.django_db

SESSIONS = reverse("admin:accesslogs_networksession_changelist")
COLLECTORS = reverse("admin:accesslogs_collector_changelist")
INGEST = reverse("api:ingest_sessions")
MAC = "00:1A:2B:3C:4D:5E"


@pytest.fixture
def support(client):
    staff = StaffUserFactory()
    staff.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(staff)
    return staff


@pytest.fixture
def attributed(collector):
    """A customer's session, and a session nobody's device made."""
    device = DeviceFactory(mac=MAC, label="Desktop")
    sessions_record(
        collector,
        [
            {"mac": MAC, "session_id": "wanted", "ip": "2001:db8::42", "site": "Wanted site"},
            {"mac": "00:1A:2B:3C:4D:5F", "session_id": "unwanted", "ip": "192.0.2.7", "site": "Unwanted site"},
        ],
    )
    return NetworkSession.objects.get(session_id="wanted"), device.user


def test_support_sees_sessions_and_a_view_lands_in_the_customers_activity(client, support, attributed):
    session, customer = attributed
    body = client.get(SESSIONS).content.decode()
    assert "Wanted site" in body and "Unwanted site" in body and customer.email in body
    assert not ActivityEvent.objects.filter(user=customer).exclude(action="created").exists()  # a list is no view

    response = client.get(reverse("admin:accesslogs_networksession_change", args=[session.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert MAC in body and "2001:db8::42" in body and customer.email in body
    view = ActivityEvent.objects.get(user=customer, action="viewed")
    assert view.category == "access_logs" and view.actor == support and view.actor_kind == "staff"
    client.force_login(customer)
    assert "activity-viewed" in client.get(reverse("me:activity")).content.decode()


def test_sessions_are_read_only_for_everyone(client, attributed):
    session, _customer = attributed
    client.force_login(SuperuserFactory())
    change = reverse("admin:accesslogs_networksession_change", args=[session.pk])
    assert client.get(reverse("admin:accesslogs_networksession_add")).status_code == 403
    assert client.get(reverse("admin:accesslogs_networksession_delete", args=[session.pk])).status_code == 403
    assert client.post(change, {"ip": "192.0.2.1", "email": "x@example.com"}).status_code == 403
    session.refresh_from_db()
    assert session.ip == "2001:db8::42"
    assert 'name="_save"' not in client.get(change).content.decode()


@pytest.mark.parametrize("term", ["00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", MAC, "2001:DB8:0::42", "wanted"])
def test_search_finds_a_whole_mac_ip_or_session_id(client, support, attributed, term):
    body = client.get(SESSIONS, {"q": term}).content.decode()
    assert "Wanted site" in body and "Unwanted site" not in body


def test_the_list_counts_at_most_a_capped_number_of_rows(client, support, collector, monkeypatch):
    sessions_record(collector, [{"mac": MAC} for _ in range(8)])
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(SESSIONS)

    assert response.status_code == 200
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"] and "accesslogs_networksession" in q["sql"]]
    assert len(counts) == 1, counts
    assert "LIMIT 6" in counts[0]
    assert "More than 5 sessions" in response.content.decode()


def test_a_list_under_the_cap_says_how_many(client, support, collector):
    sessions_record(collector, [{"mac": MAC} for _ in range(3)])
    assert "3 sessions" in client.get(SESSIONS).content.decode()


def _token_from(response) -> str:
    match = re.search(r"<code>(cpc_[A-Za-z0-9_-]+)</code>", response.content.decode())
    assert match, "the token is shown"
    return match.group(1)


def _ingest(client, token: str):
    batch = "session_id,mac,ip,site,site_address,started_at,ended_at,bytes_in,bytes_out\n"
    return client.post(INGEST, batch, content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_superuser_creates_a_collector_sees_its_token_once_and_revokes_it(client):
    client.force_login(SuperuserFactory())

    response = client.post(reverse("admin:accesslogs_collector_add"), {"name": "Paris north"}, follow=True)

    assert response.status_code == 200
    token = _token_from(response)
    assert "it will not be shown again" in response.content.decode()
    collector = Collector.objects.get(name="Paris north")
    assert collector.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(getattr(collector, f.attname)) for f in Collector._meta.fields}
    assert collector.token_prefix == token[:10]
    assert token not in client.get(COLLECTORS).content.decode()
    assert token not in client.get(reverse("admin:accesslogs_collector_change", args=[collector.pk])).content.decode()
    assert _ingest(client, token).status_code == 200

    response = client.post(COLLECTORS, {"action": "revoke", "_selected_action": [collector.pk]}, follow=True)

    assert response.status_code == 200
    collector.refresh_from_db()
    assert collector.revoked_at is not None
    assert _ingest(client, token).status_code == 401


def test_a_collector_name_is_unique_and_collectors_cannot_be_deleted(client, collector):
    client.force_login(SuperuserFactory())
    response = client.post(reverse("admin:accesslogs_collector_add"), {"name": collector.name})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Collector.objects.count() == 1
    assert client.get(reverse("admin:accesslogs_collector_delete", args=[collector.pk])).status_code == 403


def test_support_does_not_manage_collectors(client, support, collector):
    assert client.get(COLLECTORS).status_code == 403
    assert client.get(reverse("admin:accesslogs_collector_add")).status_code == 403
