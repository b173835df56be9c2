"""Customers' pages (/me/disclosures/, /logs/, /me/activity/), the public transparency
page, and the admin of holds and disclosures: who sees what, and what a hold that
forbids notice never reveals."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accesslogs.models import Collector, NetworkSession, Site, Subscriber
from accesslogs.partitions import partitions_ensure
from accesslogs.tests.factories import CollectorFactory
from accounts.groups import SUPPORT
from accounts.models import ActivityEvent
from accounts.services import staff_view_record
from accounts.tests.factories import StaffUserFactory, VerifiedUserFactory
from cloudportal.months import add_months
from compliance import selectors
from compliance.models import Disclosure, LegalHold, LegalHoldEvent
from compliance.services import legal_hold_lift
from devices.services import device_add, device_remove

from .factories import DisclosureFactory, LegalHoldFactory, PrivacyOfficerFactory

pytestmark = pytest.mark.django_db

MAC = "02:CC:00:00:00:01"


@pytest.fixture
def customer(client):
    user = VerifiedUserFactory()
    device_add(user=user, mac=MAC, label="Phone")
    client.force_login(user)
    return user


# --- /me/disclosures/ and /privacy/transparency/ ----------------------------------


def test_disclosures_show_to_their_customer_only_from_their_visible_from_day(client, customer):
    today = timezone.localdate()
    shown = DisclosureFactory(customer=customer, recipient="Shown authority", visible_from=today)
    DisclosureFactory(customer=customer, recipient="Later authority", visible_from=today + timedelta(days=1))
    DisclosureFactory(customer=customer, recipient="Undated authority", visible_from=None)
    DisclosureFactory(customer=VerifiedUserFactory(), recipient="Someone else's authority")
    response = client.get(reverse("disclosures"))
    assert response.status_code == 200
    assert list(response.context["disclosures"]) == [shown]
    body = response.content.decode()
    assert "Shown authority" in body and "Later authority" not in body and "Undated" not in body


def test_disclosures_need_sign_in(client):
    response = client.get(reverse("disclosures"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _on(monkeypatch, day):
    """The portal's clock on `day` for the transparency page."""
    clock = SimpleNamespace(now=timezone.now, localdate=lambda: day)
    monkeypatch.setattr(selectors, "timezone", clock)


def _many(count: int, *, day, kind="police"):
    officer = PrivacyOfficerFactory()
    Disclosure.objects.bulk_create(
        Disclosure(
            data_disclosed="Sessions",
            recipient="Brigade",
            authority_kind=kind,
            legal_basis="Art. 60-1",
            disclosed_on=day,
            created_by=officer,
        )
        for _n in range(count)
    )


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0–9"), (1, "0–9"), (9, "0–9"), (10, "10–49"), (49, "10–49"), (50, "50–99"), (99, "50–99"), (100, "100")],
)
def test_small_counts_are_shown_in_bands(count, shown):
    assert selectors.band(count) == shown


def test_a_disclosure_is_counted_only_once_its_half_year_is_over_and_the_delay_has_passed(
    client, monkeypatch, settings
):
    settings.TRANSPARENCY_DELAY_DAYS = 30
    today = date(2026, 12, 3)
    _many(12, day=today, kind="court")  # 12: shown as "10–49" once counted, so it cannot hide in "0–9"
    _many(3, day=date(2026, 5, 2))
    published = date(2027, 1, 31)  # 1 January, and 30 days
    for day in (today, date(2026, 12, 31), date(2027, 1, 1), published - timedelta(days=1)):
        _on(monkeypatch, day)
        body = client.get(reverse("transparency")).content.decode()
        table = body[body.index("<table") : body.index("</table>")]
        assert "10–49" not in table and 'data-period="2026-2"' not in table, day
        assert 'data-period="2026-1"' in body and "January–June 2026" in body
        assert "The counts for July–December 2026 will be published on 31 Jan 2027." in body

    _on(monkeypatch, published)
    response = client.get(reverse("transparency"))
    report = response.context["report"]
    assert [(p.period.label, p.total) for p in report.periods] == [
        ("July–December 2026", "10–49"),
        ("January–June 2026", "0–9"),
    ]
    kinds = dict(report.periods[0].by_kind)
    assert kinds[Disclosure.AuthorityKind.COURT.label] == "10–49"
    assert kinds[Disclosure.AuthorityKind.POLICE.label] == "0–9"  # none, and it does not say so
    body = response.content.decode()
    assert "How we count" in body and "0–9, 10–49, 50–99" in body and "30 days after it ends" in body


def test_a_large_count_is_exact_and_the_page_is_in_french(client, monkeypatch):
    _many(120, day=date(2025, 8, 1), kind="tax")
    _on(monkeypatch, date(2026, 12, 3))
    client.cookies["django_language"] = "fr"
    response = client.get(reverse("transparency"), HTTP_ACCEPT_LANGUAGE="fr")
    body = response.content.decode()
    row = next(p for p in response.context["report"].periods if p.period == selectors.HalfYear(2025, 2))
    assert row.total == "120" and dict(row.by_kind)[str(Disclosure.AuthorityKind.TAX.label)] == "120"
    assert "juillet–décembre 2025" in body and "Comment nous comptons" in body


# --- /logs/ -------------------------------------------------------------------------


def _session(customer, *, started_at, ip="192.0.2.50"):
    """A session straight into the table (ingest refuses those past their retention)."""
    partitions_ensure([started_at])
    subscriber, _new = Subscriber.objects.get_or_create(user=customer, email=customer.email)
    collector = Collector.objects.first() or CollectorFactory()
    site, _new = Site.objects.get_or_create(name="Gare de Lyon")
    return NetworkSession.objects.create(
        collector=collector,
        session_id=f"s-{started_at.timestamp()}",
        subscriber=subscriber,
        mac=MAC,
        ip=ip,
        site=site,
        started_at=started_at,
        ended_at=started_at + timedelta(hours=1),
        bytes_in=1,
        bytes_out=1,
    )


def _rows(client) -> dict[str, str]:
    response = client.get(reverse("logs:list"))
    assert response.status_code == 200
    return {s.session_id: s for s in response.context["page"].sessions}, response.content.decode()


def test_logs_hide_sessions_past_retention_and_a_hold_that_forbids_notice(client, customer):
    now = timezone.now()
    old = _session(customer, started_at=add_months(now, -13))
    recent = _session(customer, started_at=now - timedelta(days=3))
    assert NetworkSession.objects.filter(pk=old.pk).exists()  # not swept yet
    LegalHoldFactory(mac=MAC, customer_may_be_told=False, starts_at=add_months(now, -14))
    rows, body = _rows(client)
    assert set(rows) == {recent.session_id}  # the held old one looks erased
    assert "Held" not in body and "legal hold" not in body.lower()
    history = client.get(reverse("me:activity")).content.decode()
    assert "legal hold" not in history.lower()


def test_logs_show_held_sessions_when_the_hold_allows_the_customer_to_be_told(client, customer):
    now = timezone.now()
    old = _session(customer, started_at=add_months(now, -13))
    recent = _session(customer, started_at=now - timedelta(days=3))
    outside = _session(customer, started_at=now - timedelta(days=40))
    LegalHoldFactory(
        mac=MAC, customer_may_be_told=True, starts_at=add_months(now, -14), ends_at=now - timedelta(days=5)
    )
    rows, body = _rows(client)
    assert set(rows) == {old.session_id, recent.session_id, outside.session_id}
    assert body.count("Held (legal hold)") == 2  # the old one and the one 40 days back; not the recent one
    csv_body = b"".join(client.get(reverse("logs:csv")).streaming_content).decode()
    assert csv_body.count(",held\r\n") == 2
    history = client.get(reverse("me:activity")).content.decode()
    assert "a legal hold was placed on your access logs" in history


def test_staff_activity_stays_hidden_while_a_hold_that_forbids_notice_lasts(client, customer):
    before = StaffUserFactory()
    staff_view_record(user=customer, staff=before, category="profile")
    hold = LegalHoldFactory(scope="account", account=customer, mac="", customer_may_be_told=False)
    staff_view_record(user=customer, staff=StaffUserFactory(), category="access_logs")
    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert [(e.category, e.actor_kind) for e in shown if e.actor_kind == "staff"] == [("profile", "staff")]
    assert "legal_holds" not in {e.category for e in shown}

    legal_hold_lift(hold=hold, staff=hold.created_by, reason="Closed")
    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert {e.category for e in shown if e.actor_kind == "staff"} == {"profile", "access_logs", "legal_holds"}
    assert ActivityEvent.objects.filter(user=customer, category="legal_holds").count() == 2


OLD_MAC = "02:CC:00:00:00:99"


def _hold_of_scope(customer, scope: str, *, told: bool = False) -> LegalHold:
    """A hold of each kind that concerns the customer through their sessions: on their
    account; on the MAC address of a device they have; on the MAC address of a device
    they removed; on an IP address they used; on that IP address at one instant only
    (a time range: "who used this address at 14:05?")."""
    now = timezone.now()
    session = _session(customer, started_at=now - timedelta(days=3), ip="198.51.100.23")
    values = {"customer_may_be_told": told, "starts_at": now - timedelta(days=30)}
    if scope == "account":
        return LegalHoldFactory(scope="account", account=customer, mac="", **values)
    if scope == "mac":
        return LegalHoldFactory(mac=MAC, **values)
    if scope == "past-mac":
        old = device_add(user=customer, mac=OLD_MAC, label="Old phone")
        NetworkSession.objects.filter(pk=session.pk).update(mac=OLD_MAC)
        device_remove(device=old, actor=customer)
        return LegalHoldFactory(mac=OLD_MAC, **values)
    at_instant = session.started_at + timedelta(minutes=5)
    if scope == "time-range":
        values.update(starts_at=at_instant, ends_at=at_instant)
    return LegalHoldFactory(scope="ip", mac="", ip="198.51.100.23", **values)


HOLD_SCOPES = ["account", "mac", "past-mac", "ip", "time-range"]


@pytest.mark.parametrize("scope", HOLD_SCOPES)
def test_a_secret_hold_of_any_scope_hides_staff_views_until_it_ends(client, customer, scope):
    staff_view_record(user=customer, staff=StaffUserFactory(), category="profile")
    hold = _hold_of_scope(customer, scope)
    staff_view_record(user=customer, staff=StaffUserFactory(), category="access_logs")

    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert [e.category for e in shown if e.actor_kind == "staff"] == ["profile"]
    assert "legal_holds" not in {e.category for e in shown}

    legal_hold_lift(hold=hold, staff=hold.created_by, reason="Closed")
    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert {"profile", "access_logs"} <= {e.category for e in shown if e.actor_kind == "staff"}


@pytest.mark.parametrize("scope", HOLD_SCOPES)
def test_a_hold_of_any_scope_the_customer_may_know_of_hides_nothing_and_is_listed(client, customer, scope):
    hold = _hold_of_scope(customer, scope, told=True)
    staff_view_record(user=customer, staff=StaffUserFactory(), category="access_logs")
    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert "access_logs" in {e.category for e in shown if e.actor_kind == "staff"}
    held = client.get(reverse("me:data")).content.decode()
    assert hold.authority in held  # "What we hold" lists it under Legal holds


def test_a_secret_hold_on_someone_elses_ip_address_hides_nothing(client, customer):
    _session(customer, started_at=timezone.now() - timedelta(days=3), ip="198.51.100.23")
    LegalHoldFactory(scope="ip", mac="", ip="198.51.100.24", starts_at=timezone.now() - timedelta(days=30))
    staff_view_record(user=customer, staff=StaffUserFactory(), category="access_logs")
    shown = client.get(reverse("me:activity")).context["page"].object_list
    assert "access_logs" in {e.category for e in shown if e.actor_kind == "staff"}


# --- Admin --------------------------------------------------------------------------


def test_support_sees_no_legal_hold_nor_disclosure_and_privacy_officers_do(client):
    agent = StaffUserFactory()
    agent.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(agent)
    for name in ("legalhold", "disclosure", "sweeprun"):
        assert client.get(reverse(f"admin:compliance_{name}_changelist")).status_code == 403
    client.force_login(PrivacyOfficerFactory())
    for name in ("legalhold", "disclosure", "sweeprun"):
        assert client.get(reverse(f"admin:compliance_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:compliance_legalhold_add")).status_code == 200


def _hold_post(**values) -> dict:
    now = timezone.localtime()
    data = {
        "scope": "mac",
        "account": "",
        "mac": "02cc.0000.0099",
        "ip": "",
        "starts_at_0": (now - timedelta(days=30)).strftime("%Y-%m-%d"),
        "starts_at_1": "00:00:00",
        "ends_at_0": "",
        "ends_at_1": "",
        "authority": "Tribunal judiciaire de Lyon",
        "reference": "TJ-LY-7",
        "review_on": (now + timedelta(days=60)).strftime("%Y-%m-%d"),
        "expires_at_0": "",
        "expires_at_1": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    data.update(values)
    return data


def test_a_privacy_officer_places_and_lifts_a_hold_in_the_admin_and_each_action_is_recorded(client):
    officer = PrivacyOfficerFactory()
    client.force_login(officer)
    response = client.post(reverse("admin:compliance_legalhold_add"), _hold_post())
    assert response.status_code == 302, response.context["adminform"].form.errors
    hold = LegalHold.objects.get()
    assert hold.mac == "02:CC:00:00:00:99" and hold.created_by == officer

    change = reverse("admin:compliance_legalhold_change", args=[hold.pk])
    refused = client.post(change, _hold_post(lift="on", release_reason=""))
    assert refused.status_code == 200 and "Say why the hold is lifted." in refused.content.decode()
    assert LegalHold.objects.get().released_at is None

    client.post(change, _hold_post(reference="TJ-LY-7b", lift="on", release_reason="Order withdrawn"))
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.reference == "TJ-LY-7b"
    events = list(LegalHoldEvent.objects.filter(hold=hold).values_list("action", "staff", "fields"))
    assert events == [("placed", officer.pk, []), ("changed", officer.pk, ["reference"]), ("lifted", officer.pk, [])]
    assert client.get(change).status_code == 200  # still readable, no longer changeable


def test_a_hold_with_nothing_to_hold_is_refused_with_a_message_and_nothing_is_stored(client):
    client.force_login(PrivacyOfficerFactory())
    for values, message in (
        ({"mac": ""}, "is not a MAC address"),
        ({"mac": "FF:FF:FF:FF:FF:FF"}, "broadcast"),
        ({"scope": "ip", "mac": ""}, "Give the IP address to hold."),
        ({"scope": "account", "mac": ""}, "Choose the account to hold."),
        ({"ends_at_0": "2000-01-01", "ends_at_1": "00:00:00"}, "must come after its start"),
    ):
        response = client.post(reverse("admin:compliance_legalhold_add"), _hold_post(**values))
        assert response.status_code == 200 and message in response.content.decode(), values
    assert not LegalHold.objects.exists()


def test_the_holds_list_shows_those_in_force_whose_review_is_due(client):
    today = timezone.localdate()
    due = LegalHoldFactory(reference="DUE", review_on=today - timedelta(days=1))
    LegalHoldFactory(reference="LATER", review_on=today + timedelta(days=30))
    lifted = LegalHoldFactory(reference="LIFTED", review_on=today - timedelta(days=1))
    legal_hold_lift(hold=lifted, staff=lifted.created_by, reason="Done")
    client.force_login(PrivacyOfficerFactory())
    response = client.get(reverse("admin:compliance_legalhold_changelist"), {"status": "review"})
    assert [h.pk for h in response.context["cl"].result_list] == [due.pk]
