"""The acceptance gate, /privacy/accept/, /me/acceptances/ and acceptance at sign-up."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import VerifiedUserFactory
from policies.models import StatementAcceptance
from policies.selectors import STATE_CACHE_KEY
from policies.services import statement_accept, statements_switch_over

from .diffs import marked
from .factories import PublishedVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    """1.0 accepted by the customer, then 2.0, material, in force since yesterday."""
    old = PublishedVersionFactory(
        version="1.0",
        material=True,
        body="## Logs\n\nKept 12 months.",
        effective_at=timezone.now() - timedelta(days=60),
    )
    new = PublishedVersionFactory(
        version="2.0",
        material=True,
        body="## Logs\n\nKept 6 months.",
        changelog="Logs kept for 6 months.",
        effective_at=timezone.now() - timedelta(days=1),
    )
    return old, new


def test_a_customer_who_has_not_accepted_the_material_version_is_sent_to_accept_it(client, versions):
    old, new = versions
    customer = VerifiedUserFactory()
    statement_accept(user=customer, version=old, ip_address="192.0.2.1", user_agent="Old browser")
    client.force_login(customer)

    response = client.get("/devices/?x=1")
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy_accept") + "?next=%2Fdevices%2F%3Fx%3D1"
    # What stays reachable without accepting.
    for path in ("/privacy/", "/privacy/versions/", "/privacy/diff/1.0/2.0/", "/privacy/cookies/"):
        assert client.get(path).status_code == 200, path

    page = client.get(response["Location"]).content.decode()
    assert "What changed since version 1.0, which you accepted" in page
    # The changed words are marked inside the changed sentence.
    assert marked(page, "del") == ["12"] and marked(page, "ins") == ["6"]

    done = client.post(
        reverse("privacy_accept"),
        {"version": new.pk, "next": "/devices/?x=1"},
        HTTP_USER_AGENT="Firefox/140",
        REMOTE_ADDR="198.51.100.23",
    )
    assert done.status_code == 302 and done["Location"] == "/devices/?x=1"
    acceptance = StatementAcceptance.objects.get(user=customer, version=new)
    assert acceptance.ip_address == "198.51.100.23" and acceptance.user_agent == "Firefox/140"
    assert client.get("/devices/").status_code == 200

    listing = client.get(reverse("me:acceptances")).content.decode()
    assert "198.51.100.23" in listing and "Old browser" in listing and "2.0" in listing


def test_accepting_a_version_that_is_no_longer_in_force_is_refused(client, versions):
    old, _new = versions
    client.force_login(VerifiedUserFactory())
    response = client.post(reverse("privacy_accept"), {"version": old.pk})
    assert response.status_code == 400
    assert "The statement changed while you were reading it" in response.content.decode()
    assert not StatementAcceptance.objects.exists()


def test_an_offsite_next_is_ignored(client, versions):
    _old, new = versions
    client.force_login(VerifiedUserFactory())
    response = client.post(reverse("privacy_accept"), {"version": new.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_gate_opens_on_the_effective_date_once_the_switch_over_has_run(client):
    customer = VerifiedUserFactory()
    version = PublishedVersionFactory(material=True, effective_at=timezone.now() + timedelta(seconds=2))
    client.force_login(customer)
    assert client.get("/devices/").status_code == 200
    assert cache.get(STATE_CACHE_KEY).required_id is None

    time.sleep(2.1)
    assert statements_switch_over() == version.pk
    assert cache.get(STATE_CACHE_KEY).required_id == version.pk
    assert client.get("/devices/").status_code == 302


def test_a_minor_version_does_not_stop_anyone(client):
    PublishedVersionFactory(material=False)
    client.force_login(VerifiedUserFactory())
    assert client.get("/devices/").status_code == 200


def test_the_gate_costs_no_query_once_the_acceptance_is_known(client, versions):
    _old, new = versions
    customer = VerifiedUserFactory()
    statement_accept(user=customer, version=new, ip_address=None, user_agent="")
    client.force_login(customer)
    client.get("/privacy/cookies/")  # warms the session
    client.get("/me/acceptances/")  # the gate checks once and remembers it in the session
    # The same page with the gate's middleware and without: the same number of queries.
    with CaptureQueriesContext(connection) as with_gate:
        assert client.get("/me/acceptances/").status_code == 200
    without = [m for m in settings.MIDDLEWARE if m != "policies.middleware.StatementAcceptanceMiddleware"]
    with override_settings(MIDDLEWARE=without), CaptureQueriesContext(connection) as without_gate:
        assert client.get("/me/acceptances/").status_code == 200
    assert len(with_gate.captured_queries) == len(without_gate.captured_queries)


def test_staff_and_visitors_are_never_stopped(client, versions):
    from accounts.tests.factories import StaffUserFactory

    assert client.get("/").status_code == 200
    client.force_login(StaffUserFactory())
    assert client.get("/").status_code == 200


def test_a_new_customer_accepts_the_statement_in_force_at_sign_up(client, versions):
    _old, new = versions
    form = client.get(reverse("account_signup")).content.decode()
    assert "I have read the privacy statement (version 2.0) and accept it." in form
    refused = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert refused.status_code == 200 and "Please accept the privacy statement" in refused.content.decode()
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
            "accept_statement": "on",
        },
        HTTP_USER_AGENT="Signup browser",
    )
    acceptance = StatementAcceptance.objects.get(user__email="new@example.com")
    assert acceptance.version == new and acceptance.user_agent == "Signup browser"


def test_the_dashboard_announces_an_upcoming_change_with_a_link_to_what_changes(client, versions):
    _old, new = versions
    customer = VerifiedUserFactory()
    statement_accept(user=customer, version=new, ip_address=None, user_agent="")
    PublishedVersionFactory(version="3.0", material=True, effective_at=timezone.now() + timedelta(days=31))
    client.force_login(customer)
    page = client.get("/").content.decode()
    assert "Our privacy statement changes on" in page and "we will ask you to accept it" in page
    assert reverse("privacy_diff", args=["2.0", "3.0"]) in page
    assert reverse("me:acceptances") in page
