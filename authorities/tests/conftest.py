"""The authority-request tests' shared world."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import VerifiedUserFactory
from authorities.services import approval_ask, lookup_run
from devices.services import device_add

from .factories import AuthorityRequestFactory

MAC_A, MAC_B = "3C:22:FB:00:00:0A", "3C:22:FB:00:00:0B"


@pytest.fixture
def world():
    """Two customers at the same hotspot address an hour apart, and the request about it."""
    now = timezone.now()
    alice, bob = VerifiedUserFactory(email="alice@example.com"), VerifiedUserFactory(email="bob@example.com")
    device_add(user=alice, mac=MAC_A)
    device_add(user=bob, mac=MAC_B)
    at = now - timedelta(days=3)
    sessions_record(
        CollectorFactory(),
        [
            dict(mac=MAC_A, ip="198.51.100.9", started_at=at - timedelta(minutes=30), session_id="alice-1"),
            dict(mac=MAC_B, ip="198.51.100.9", started_at=at + timedelta(minutes=20), session_id="bob-1"),
            dict(mac=MAC_A, ip="192.0.2.44", started_at=now - timedelta(days=40), session_id="alice-2"),
        ],
    )
    request = AuthorityRequestFactory()
    lookup_run(
        request=request,
        staff=request.officer,
        kind="ip",
        value="198.51.100.9",
        starts_at=at - timedelta(hours=1),
        ends_at=at + timedelta(hours=1),
    )
    lookup_run(
        request=request, staff=request.officer, kind="mac", value=MAC_A, starts_at=now - timedelta(days=60), ends_at=now
    )
    approval_ask(request=request, staff=request.officer)
    return {"alice": alice, "bob": bob, "request": request, "at": at}
