"""An authority's request answered end to end, in Chromium (SPEC §4): officer A opens it,
runs an IP lookup and a MAC lookup and sees masked results; A cannot approve; officer
B approves, which places the holds, records the disclosures and counts the request;
A downloads the package, which verify_disclosure accepts and refuses with one byte
changed; a customer concerned sees the disclosure on /me/disclosures/ from its
visible-from day and not before, on a phone."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from playwright.sync_api import expect

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, sign_in, sign_out
from authorities.models import AuthorityRequest
from cloudportal.tests.test_accessibility import _serious
from compliance import selectors
from compliance.models import Disclosure, LegalHold
from compliance.request_counts import authority_requests_counted
from compliance.tests.factories import PrivacyOfficerFactory
from devices.services import device_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAC_A, MAC_B = "3C:22:FB:00:01:0A", "3C:22:FB:00:01:0B"


def _admin_sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/admin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Sign in").click()
    expect(page.locator("#site-name")).to_be_visible()


def _sign_out(page, url: str) -> None:
    page.goto(f"{url}/")
    sign_out(page, url)


def _open_request(page, url: str, reference: str) -> None:
    page.goto(f"{url}/admin/authorities/authorityrequest/")
    page.get_by_role("link", name=reference).click()


def test_an_authority_request_from_lookups_to_the_customers_page(page, portal, monkeypatch, tmp_path):
    alice, bob = VerifiedUserFactory(email="alice@example.com"), VerifiedUserFactory(email="bob@example.com")
    device_add(user=alice, mac=MAC_A)
    device_add(user=bob, mac=MAC_B)
    at = timezone.localtime(timezone.now() - timedelta(days=2)).replace(second=0, microsecond=0)
    sessions_record(
        CollectorFactory(),
        [
            dict(
                mac=MAC_A, ip="203.0.113.7", started_at=at - timedelta(minutes=40), ended_at=at + timedelta(minutes=5)
            ),
            dict(
                mac=MAC_B, ip="203.0.113.7", started_at=at - timedelta(minutes=10), ended_at=at + timedelta(minutes=30)
            ),
            dict(mac=MAC_A, ip="192.0.2.80", started_at=at - timedelta(days=5)),
        ],
    )
    a, b = PrivacyOfficerFactory(), PrivacyOfficerFactory()
    today = timezone.localdate()
    visible_from = today + timedelta(days=3)

    # Officer A opens the request.
    _admin_sign_in(page, portal.url, a.email)
    page.goto(f"{portal.url}/admin/authorities/authorityrequest/add/")
    page.locator("#id_authority").fill("Brigade de recherche de Paris")
    page.locator("#id_authority_kind").select_option("police")
    page.locator("#id_reference").fill("PV-2026-0815")
    page.locator("#id_legal_basis").fill("Article 60-1 of the code of criminal procedure")
    page.locator("#id_due_on").fill((today + timedelta(days=10)).isoformat())
    page.locator("#id_notice_from").fill(visible_from.isoformat())
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    _open_request(page, portal.url, "PV-2026-0815")

    # An IP lookup at an instant: two sessions, two customers, masked.
    page.get_by_role("link", name="Look up an IP address").click()
    page.locator("#id_value").fill("203.0.113.7")
    page.locator("#id_at").fill(at.strftime("%Y-%m-%dT%H:%M:%S"))
    button(page, "Run the lookup").click()
    expect(page.locator('[data-count="sessions"]')).to_have_text("2 sessions matched")
    expect(page.locator('[data-count="accounts"]')).to_have_text("2 accounts concerned")
    table = page.locator('table[data-results="masked"]')
    expect(table).to_contain_text("a•••@e•••.com")
    expect(table).not_to_contain_text("alice@example.com")
    expect(table).not_to_contain_text(MAC_A)
    assert _serious(page) == []

    # A MAC lookup over a week: Alice's two sessions.
    _open_request(page, portal.url, "PV-2026-0815")
    page.get_by_role("link", name="Look up a MAC address").click()
    page.locator("#id_value").fill(MAC_A.lower().replace(":", "-"))
    page.locator("#id_date_from").fill((today - timedelta(days=7)).isoformat())
    page.locator("#id_date_to").fill(today.isoformat())
    button(page, "Run the lookup").click()
    expect(page.locator('[data-count="sessions"]')).to_have_text("2 sessions matched")
    expect(page.locator("table[data-results]")).to_have_attribute("data-results", "masked")

    # A asks for approval, and cannot approve.
    _open_request(page, portal.url, "PV-2026-0815")
    page.get_by_role("link", name="Ask for approval").click()
    button(page, "Ask for approval").click()
    expect(page.locator(".messagelist")).to_contain_text("awaits the approval of another Privacy officer")
    page.get_by_role("link", name="Decide (second officer)").click()
    expect(page.locator("[data-refused]")).to_have_text(
        "You prepared this request: another Privacy officer must decide it."
    )
    assert not LegalHold.objects.exists() and not Disclosure.objects.exists()
    _sign_out(page, portal.url)

    # Officer B approves.
    _admin_sign_in(page, portal.url, b.email)
    _open_request(page, portal.url, "PV-2026-0815")
    page.get_by_role("link", name="Decide (second officer)").click()
    page.get_by_label("approve: disclose what the lookups matched").check()
    page.locator("#id_reason").fill("Requisition signed by the investigating officer, within its scope")
    button(page, "Record the decision").click()
    expect(page.locator(".messagelist")).to_contain_text("Decision recorded: approved")
    request = AuthorityRequest.objects.get()
    assert {(h.scope, h.ip or h.mac) for h in request.holds.all()} == {("ip", "203.0.113.7"), ("mac", MAC_A)}
    assert {d.customer for d in Disclosure.objects.all()} == {alice, bob}
    assert all(d.visible_from == visible_from for d in Disclosure.objects.all())
    assert authority_requests_counted(start=today, end=today + timedelta(days=1))["disclosed"] == {"police": 1}
    _sign_out(page, portal.url)

    # A downloads the package; verify_disclosure accepts it and refuses a copy with one byte changed.
    _admin_sign_in(page, portal.url, a.email)
    _open_request(page, portal.url, "PV-2026-0815")
    page.get_by_role("link", name="Disclosure package", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the package").click()
    path = tmp_path / "package.zip"
    download.value.save_as(path)
    call_command("verify_disclosure", str(path))
    changed = bytearray(path.read_bytes())
    changed[len(changed) // 3] ^= 0x20
    copy = tmp_path / "changed.zip"
    copy.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match="REFUSED"):
        call_command("verify_disclosure", str(copy))
    request.refresh_from_db()
    assert request.status == AuthorityRequest.Status.DISCLOSED
    _sign_out(page, portal.url)

    # Alice, on a phone: nothing before the visible-from day; the disclosure from then on.
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, portal.url, alice.email, DEFAULT_PASSWORD)
    page.goto(f"{portal.url}/me/disclosures/")
    expect(page.locator("main")).to_contain_text("No disclosure about you that we may show.")
    clock = SimpleNamespace(now=timezone.now, localdate=lambda: visible_from)
    monkeypatch.setattr(selectors, "timezone", clock)
    page.reload()
    card = page.locator(".disclosure")
    expect(card).to_contain_text("Brigade de recherche de Paris")
    expect(card).to_contain_text("2 sessions from")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert _serious(page) == []
