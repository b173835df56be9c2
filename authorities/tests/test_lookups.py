"""Lookups (SPEC §4): what each kind matches, the bounded windows, and attribution as
recorded at the time (who held the MAC address when the session was recorded, never
whoever holds it now)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accesslogs.models import NetworkSession
from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import VerifiedUserFactory
from authorities.models import AuthorityRequest, Lookup, LookupMatch
from authorities.services import lookup_run
from devices.models import Device
from devices.services import device_add, device_remove

from .factories import AuthorityRequestFactory

pytestmark = pytest.mark.django_db

MAC = "3C:22:FB:00:00:07"


@pytest.fixture
def request_():
    return AuthorityRequestFactory()


def _run(request, kind, value, starts_at, ends_at=None) -> Lookup:
    return lookup_run(
        request=request,
        staff=request.officer,
        kind=kind,
        value=value,
        starts_at=starts_at,
        ends_at=ends_at or starts_at,
    )


def test_a_mac_that_changed_accounts_gives_each_session_its_holder_then(request_):
    now = timezone.now()
    first, second = VerifiedUserFactory(email="first@example.com"), VerifiedUserFactory(email="second@example.com")
    collector = CollectorFactory()
    device_add(user=first, mac=MAC)
    sessions_record(collector, [{"mac": MAC, "started_at": now - timedelta(days=20), "session_id": "held-by-first"}])
    device_remove(device=Device.objects.get(mac=MAC), actor=first)
    sessions_record(collector, [{"mac": MAC, "started_at": now - timedelta(days=10), "session_id": "nobody"}])
    device_add(user=second, mac=MAC)
    sessions_record(collector, [{"mac": MAC, "started_at": now - timedelta(days=5), "session_id": "held-by-second"}])

    lookup = _run(request_, "mac", "3c-22-fb-00-00-07", now - timedelta(days=30), now)

    rows = {m.session_id: (m.account_id, m.email) for m in LookupMatch.objects.filter(lookup=lookup)}
    assert rows == {
        "held-by-first": (first.pk, "first@example.com"),
        "nobody": (None, ""),
        "held-by-second": (second.pk, "second@example.com"),
    }
    assert (lookup.sessions, lookup.accounts, lookup.mac) == (3, 2, MAC)
    request_.refresh_from_db()
    assert request_.status == AuthorityRequest.Status.LOOKUP


def test_an_ip_lookup_at_an_instant_matches_the_sessions_in_progress_then(request_):
    at = timezone.now() - timedelta(days=3)
    customer = VerifiedUserFactory()
    device_add(user=customer, mac=MAC)
    sessions_record(
        CollectorFactory(),
        [
            {**row, "mac": MAC}
            for row in [
                dict(ip="203.0.113.7", started_at=at - timedelta(hours=2), ended_at=at, session_id="in-progress"),
                dict(ip="203.0.113.7", started_at=at - timedelta(hours=3), ended_at=at - timedelta(seconds=1)),
                dict(ip="203.0.113.7", started_at=at + timedelta(seconds=1), session_id="started-after"),
                dict(ip="203.0.113.8", started_at=at - timedelta(hours=2), ended_at=at + timedelta(hours=1)),
                dict(ip="2001:db8::7", started_at=at - timedelta(hours=2), ended_at=at, session_id="v6"),
            ]
        ],
    )
    lookup = _run(request_, "ip", " 203.0.113.7 ", at)
    assert list(lookup.matches.values_list("session_id", flat=True)) == ["in-progress"]
    assert lookup.matches.get().mac == MAC
    assert lookup.is_instant
    lookup = _run(request_, "ip", "2001:DB8:0:0::7", at - timedelta(minutes=30), at)
    assert list(lookup.matches.values_list("session_id", "account_id")) == [("v6", customer.pk)]


def test_an_account_is_found_by_its_email_as_recorded_even_after_it_changed(request_):
    now = timezone.now()
    customer = VerifiedUserFactory(email="before@example.com")
    device_add(user=customer, mac=MAC)
    collector = CollectorFactory()
    sessions_record(collector, [{"mac": MAC, "started_at": now - timedelta(days=9), "session_id": "as-before"}])
    customer.email = "after@example.com"
    customer.save()
    sessions_record(collector, [{"mac": MAC, "started_at": now - timedelta(days=2), "session_id": "as-after"}])

    past = _run(request_, "account", "Before@Example.com", now - timedelta(days=30), now)
    current = _run(request_, "account", "after@example.com", now - timedelta(days=30), now)
    assert list(past.matches.values_list("session_id", "email")) == [("as-before", "before@example.com")]
    assert list(current.matches.values_list("session_id", flat=True)) == ["as-after"]
    assert past.accounts == current.accounts == 1


def test_an_ip_window_longer_than_allowed_is_refused_with_a_message_and_nothing_is_stored(request_, settings):
    settings.AUTHORITY_IP_WINDOW_MAX_DAYS = 31
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        _run(request_, "ip", "203.0.113.7", now - timedelta(days=40), now - timedelta(days=8))
    assert "at most 31 days" in refused.value.message_dict["ends_at"][0]
    assert not Lookup.objects.exists()
    # A MAC address may cover longer (AUTHORITY_LOOKUP_MAX_DAYS).
    assert _run(request_, "mac", MAC, now - timedelta(days=40), now - timedelta(days=8)).sessions == 0


@pytest.mark.parametrize(
    ("kind", "value", "starts", "ends", "field", "message"),
    [
        ("ip", "203.0.113.300", -1, 0, "value", "is not an IPv4 or IPv6 address"),
        ("mac", "FF:FF:FF:FF:FF:FF", -1, 0, "value", "broadcast address"),
        ("account", "not-an-email", -1, 0, "value", "Give the account's email address"),
        ("ip", "203.0.113.7", 0, -1, "ends_at", "must come after its start"),
        ("ip", "203.0.113.7", 2, 3, "starts_at", "starts in the future"),
        ("mac", MAC, -500, -400, "ends_at", "past their retention and erased"),
    ],
)
def test_bad_lookups_are_refused_by_field(request_, kind, value, starts, ends, field, message):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        _run(request_, kind, value, now + timedelta(days=starts), now + timedelta(days=ends))
    assert message in " ".join(refused.value.message_dict[field])
    assert not Lookup.objects.exists()


def test_sessions_past_their_retention_are_not_matched(request_, settings):
    now = timezone.now()
    sessions_record(CollectorFactory(), [{"mac": MAC, "started_at": now - timedelta(days=40)}])
    assert NetworkSession.objects.filter(mac=MAC).exists()
    settings.ACCESS_LOG_RETENTION_MONTHS = 1  # the session is now past its retention: the sweep would erase it
    assert _run(request_, "mac", MAC, now - timedelta(days=60), now).sessions == 0
