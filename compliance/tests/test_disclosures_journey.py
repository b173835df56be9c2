"""A disclosure in Chromium: a Privacy officer records it in the admin with the day
from which the customer may see it; the customer sees it on /me/disclosures/ from that
day and not before; the public transparency page counts it only once its half-year
is over and the delay has passed, in a band."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, sign_in, sign_out
from cloudportal.tests.test_accessibility import _serious
from compliance import selectors

from .factories import PrivacyOfficerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_disclosure_recorded_in_the_admin_shows_to_the_customer_from_its_date(page, portal, monkeypatch):
    customer = VerifiedUserFactory()
    officer = PrivacyOfficerFactory()
    today = timezone.localdate()
    visible_from = today + timedelta(days=3)

    page.goto(f"{portal.url}/admin/")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Sign in").click()
    page.goto(f"{portal.url}/admin/compliance/disclosure/add/")
    page.locator("#id_customer").fill(str(customer.pk))
    page.locator("#id_data_disclosed").fill("Sessions of 3 March: times, IP addresses and site")
    page.locator("#id_recipient").fill("Brigade de recherche de Paris")
    page.locator("#id_authority_kind").select_option("police")
    page.locator("#id_legal_basis").fill("Article 60-1 of the code of criminal procedure")
    page.locator("#id_reference").fill("REQ-2026-0042")
    page.locator("#id_disclosed_on").fill(today.isoformat())
    # A visible-from day before the disclosure is refused, with the reason by the field.
    page.locator("#id_visible_from").fill((today - timedelta(days=1)).isoformat())
    page.locator('input[name="_save"]').click()
    expect(page.locator(".errorlist")).to_contain_text("cannot see it before it was disclosed")
    page.locator("#id_visible_from").fill(visible_from.isoformat())
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    page.goto(f"{portal.url}/")
    sign_out(page, portal.url)

    # The public transparency page does not count it while its half-year runs...
    half = selectors.HalfYear.of(today)
    page.goto(f"{portal.url}/privacy/transparency/")
    expect(page.locator(f'tr[data-period="{half.year}-{half.half}"]')).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"The counts for {half.label} will be published on")
    # ...and counts it, in a band and without naming anyone, once it is published.
    clock = SimpleNamespace(now=timezone.now, localdate=lambda: half.published_on)
    monkeypatch.setattr(selectors, "timezone", clock)
    page.reload()
    row = page.locator(f'tr[data-period="{half.year}-{half.half}"]')
    expect(row.locator("[data-total]")).to_have_text("0–9")
    expect(page.locator("main")).to_contain_text("How we count")
    expect(page.locator("main")).not_to_contain_text(customer.email)
    assert _serious(page) == []
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    monkeypatch.undo()

    # Before its visible-from day, the customer does not see it.
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Disclosures").click()
    expect(page.locator("main")).to_contain_text("No disclosure about you that we may show.")
    expect(page.locator("main")).not_to_contain_text("Brigade de recherche")

    # From that day on (the portal's clock moved to it), they do.
    clock = SimpleNamespace(now=timezone.now, localdate=lambda: visible_from)
    monkeypatch.setattr(selectors, "timezone", clock)
    page.reload()
    card = page.locator(".disclosure")
    expect(card).to_contain_text("Brigade de recherche de Paris")
    expect(card).to_contain_text("Police")
    expect(card).to_contain_text("Article 60-1 of the code of criminal procedure")
    assert _serious(page) == []
