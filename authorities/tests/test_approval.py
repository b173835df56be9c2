"""Four eyes and what a decision does (SPEC §4): the officer who prepared a request
cannot decide it; approving places the holds, records the disclosures and the count
in one transaction; refusing places and records nothing but the count; what is held
survives the sweep and the account's erasure until the request is closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accesslogs.models import NetworkSession
from accounts.models import ActivityEvent, User
from accounts.selectors import activity_for
from authorities.models import AuthorityRequest, LookupMatch, RequestEvent
from authorities.services import (
    FourEyesError,
    approval_ask,
    authority_request_change,
    lookup_run,
    request_close,
    request_decide,
    results_reveal,
)
from cloudportal.months import add_months
from compliance.models import Disclosure, LegalHold
from compliance.request_counts import authority_requests_counted
from compliance.selectors import disclosures_for
from compliance.tests.factories import PrivacyOfficerFactory
from erasure.services import account_delete_request
from portal.sweep import retention_sweep

from .conftest import MAC_A, MAC_B

pytestmark = pytest.mark.django_db


def test_the_officer_who_prepared_a_request_cannot_decide_it(world):
    request = world["request"]
    with pytest.raises(FourEyesError):
        request_decide(request=request, staff=request.officer, decision="approved", reason="Lawful")
    # Nor anyone who ran one of its lookups.
    helper = PrivacyOfficerFactory()
    AuthorityRequest.objects.filter(pk=request.pk).update(status="lookup")
    lookup_run(request=request, staff=helper, kind="mac", value=MAC_B, starts_at=world["at"], ends_at=timezone.now())
    approval_ask(request=request, staff=request.officer)
    with pytest.raises(FourEyesError):
        request_decide(request=request, staff=helper, decision="approved", reason="Lawful")
    assert not LegalHold.objects.exists() and not Disclosure.objects.exists()


def test_approval_places_the_holds_records_the_disclosures_and_the_count(world):
    request, alice, bob = world["request"], world["alice"], world["bob"]
    second = PrivacyOfficerFactory()
    decided = request_decide(request=request, staff=second, decision="approved", reason="Requisition in order")
    assert decided.status == AuthorityRequest.Status.APPROVED and decided.decided_by == second

    ip_lookup, mac_lookup = request.lookups.order_by("pk")
    holds = {(h.scope, h.ip or h.mac, h.starts_at, h.ends_at, h.customer_may_be_told) for h in decided.holds.all()}
    assert holds == {
        ("ip", "198.51.100.9", ip_lookup.starts_at, ip_lookup.ends_at, False),
        ("mac", MAC_A, mac_lookup.starts_at, mac_lookup.ends_at, False),
    }
    # What each hold keeps is exactly what its lookup matched.
    from accesslogs.holds import held_scopes, sessions_held_q

    for hold, lookup in zip(decided.holds.order_by("pk"), (ip_lookup, mac_lookup), strict=True):
        held = NetworkSession.objects.filter(sessions_held_q(scopes=held_scopes(holds=[hold])))
        assert set(held.values_list("pk", flat=True)) == set(lookup.matches.values_list("session_pk", flat=True))

    disclosures = {d.customer: d for d in Disclosure.objects.all()}
    assert set(disclosures) == {alice, bob}
    assert disclosures[alice].data_disclosed.startswith("2 sessions from")
    assert all(d.visible_from == request.notice_from and d.recipient == request.authority for d in disclosures.values())
    today = timezone.localdate()
    half = today.replace(month=1 if today.month <= 6 else 7, day=1)
    assert authority_requests_counted(start=half, end=half + timedelta(days=190))["disclosed"] == {"police": 1}
    assert [e.action for e in request.events.all()][-2:] == ["submitted", "approved"]


def test_a_refused_request_creates_no_hold_and_no_disclosure(world):
    request = world["request"]
    request_decide(request=request, staff=PrivacyOfficerFactory(), decision="refused", reason="No legal basis")
    assert not LegalHold.objects.exists() and not Disclosure.objects.exists()
    today = timezone.localdate()
    counted = authority_requests_counted(start=today, end=today + timedelta(days=1))
    assert counted == {"disclosed": {}, "refused": {"police": 1}, "challenged": {}}
    with pytest.raises(ValidationError):
        request_decide(request=request, staff=PrivacyOfficerFactory(), decision="approved", reason="Changed my mind")


def test_a_decision_needs_a_reason_and_writes_nothing_without(world):
    with pytest.raises(ValidationError):
        request_decide(request=world["request"], staff=PrivacyOfficerFactory(), decision="approved", reason="  ")
    assert not LegalHold.objects.exists() and not Disclosure.objects.exists()
    assert AuthorityRequest.objects.get().status == AuthorityRequest.Status.AWAITING


def test_a_challenge_keeps_the_data_and_discloses_nothing_until_approved(world):
    request = world["request"]
    request_decide(request=request, staff=PrivacyOfficerFactory(), decision="challenged", reason="Too broad")
    assert LegalHold.objects.count() == 2 and not Disclosure.objects.exists()
    request_decide(request=request, staff=PrivacyOfficerFactory(), decision="approved", reason="Court upheld it")
    assert LegalHold.objects.count() == 2 and Disclosure.objects.count() == 2


def test_held_sessions_survive_the_sweep_and_erasure_until_the_request_is_closed(
    world, settings, django_capture_on_commit_callbacks
):
    request, alice = world["request"], world["alice"]
    request_decide(request=request, staff=PrivacyOfficerFactory(), decision="approved", reason="In order")
    matched = set(LookupMatch.objects.values_list("session_pk", flat=True))
    later = add_months(timezone.now(), 13)  # every session is past its retention by then

    settings.ERASURE_GRACE_HOURS = 0
    with django_capture_on_commit_callbacks(execute=True):
        account_delete_request(user=alice)  # erased at once, through the registry
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not LookupMatch.objects.filter(email="alice@example.com").exists()
    retention_sweep(now=later)
    assert set(NetworkSession.objects.values_list("pk", flat=True)) == matched

    request_close(request=request, staff=request.officer, reason="Investigation over")
    assert not LegalHold.objects.active().exists() and not LookupMatch.objects.exists()
    retention_sweep(now=later)
    assert not NetworkSession.objects.exists()
    assert Disclosure.objects.count() == 2  # what was disclosed stays on record


def test_results_in_clear_only_after_approval_with_a_reason_hidden_from_the_customer_until_notice(world):
    request, alice = world["request"], world["alice"]
    lookup = request.lookups.first()
    second = PrivacyOfficerFactory()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        results_reveal(lookup=lookup, staff=second, reason="Checking")
    request_decide(request=request, staff=second, decision="approved", reason="In order")
    with pytest.raises(ValidationError):
        results_reveal(lookup=lookup, staff=second, reason=" ")
    results_reveal(lookup=lookup, staff=second, reason="Checking the match")
    view = ActivityEvent.objects.get(user=alice, action="viewed", actor=second)
    assert view.note == f"Authority request #{request.pk}: Checking the match"
    assert request.events.filter(action=RequestEvent.Action.VIEWED).exists()

    # Not shown to Alice while she may not know of the request, nor the disclosure.
    assert view not in activity_for(user=alice) and not disclosures_for(user=alice).exists()
    # From the notice day, both are (and the holds may be told of).
    authority_request_change(request=request, staff=second, values={"notice_from": timezone.localdate()})
    assert view in activity_for(user=alice) and disclosures_for(user=alice).count() == 1
    assert not LegalHold.objects.filter(customer_may_be_told=False).exists()
    assert request.events.filter(action=RequestEvent.Action.NOTICE).exists()


def test_the_transparency_page_counts_requests_by_decision_once_their_half_year_is_published(
    world, client, monkeypatch, settings
):
    """Requests refused in a half-year with no disclosure still make that half-year a row
    of the report, under "Refused", banded (12 shows as "10–49"); while the half-year runs
    they show nowhere."""
    from types import SimpleNamespace

    from django.urls import reverse

    from compliance import selectors

    from .factories import AuthorityRequestFactory

    settings.TRANSPARENCY_DELAY_DAYS = 30
    request, second = world["request"], PrivacyOfficerFactory()
    request_decide(request=request, staff=second, decision="refused", reason="No legal basis")
    for _ in range(11):
        other = AuthorityRequestFactory()
        AuthorityRequest.objects.filter(pk=other.pk).update(decision="refused", decided_by=second)
    decided = timezone.make_aware(timezone.datetime(2025, 3, 10, 12, 0))
    AuthorityRequest.objects.update(decided_at=decided)

    def on(day):
        monkeypatch.setattr(selectors, "timezone", SimpleNamespace(now=timezone.now, localdate=lambda: day))
        return client.get(reverse("transparency"))

    running = on(timezone.datetime(2025, 6, 20).date()).content.decode()
    assert 'data-requests-period="2025-1"' not in running

    response = on(timezone.datetime(2026, 12, 3).date())
    rows = {p.period.label: (p.requests, p.requests_total) for p in response.context["report"].periods}
    assert rows["January–June 2025"] == ([("Disclosed", "0–9"), ("Refused", "10–49"), ("Challenged", "0–9")], "10–49")
    assert set(rows) == {"January–June 2026", "July–December 2025", "January–June 2025"}
    body = response.content.decode()
    assert 'data-requests-period="2025-1"' in body and "Requests from authorities, by half-year and decision" in body
