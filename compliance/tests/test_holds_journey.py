"""A secret hold on an IP address in Chromium: a Privacy officer places it in the admin
on the address one of a customer's sessions came from, then opens the customer's
record; the customer's history shows nothing of either, on a phone as on a desk, until
the officer lifts the hold. Then a hold the customer may know of: /logs/ says held."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accesslogs.tests.factories import CollectorFactory, sessions_record
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, sign_in, sign_out
from cloudportal.tests.test_accessibility import _serious
from devices.services import device_add

from .factories import PrivacyOfficerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAC, IP = "02:DD:00:00:00:01", "203.0.113.45"


def _officer_in_admin(page, portal, officer) -> None:
    page.goto(f"{portal.url}/admin/")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Sign in").click()


def _place_hold(page, portal, *, told: bool) -> None:
    start = timezone.localtime() - timedelta(days=30)
    page.goto(f"{portal.url}/admin/compliance/legalhold/add/")
    page.locator("#id_scope").select_option("ip")
    page.locator("#id_ip").fill(IP)
    page.locator("#id_starts_at_0").fill(start.strftime("%Y-%m-%d"))
    page.locator("#id_starts_at_1").fill("00:00:00")
    page.locator("#id_authority").fill("Tribunal judiciaire de Paris")
    page.locator("#id_reference").fill("TJ-2026-0815")
    page.locator("#id_review_on").fill((start + timedelta(days=120)).strftime("%Y-%m-%d"))
    if told:
        page.locator("#id_customer_may_be_told").check()
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")


def test_a_secret_hold_on_an_ip_address_hides_the_staff_view_until_it_is_lifted(page, portal):
    customer = VerifiedUserFactory()
    device_add(user=customer, mac=MAC, label="Phone")
    sessions_record(CollectorFactory(), [{"mac": MAC, "ip": IP, "started_at": timezone.now() - timedelta(days=3)}])
    officer = PrivacyOfficerFactory()

    _officer_in_admin(page, portal, officer)
    _place_hold(page, portal, told=False)
    page.goto(f"{portal.url}/admin/accounts/user/{customer.pk}/change/")  # the staff view
    expect(page.locator("#content")).to_contain_text(customer.email)
    page.goto(f"{portal.url}/")
    sign_out(page, portal.url)

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{portal.url}/me/activity/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Activity history")
        expect(page.locator("tr.activity-viewed")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("legal hold")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"{portal.url}/logs/")
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("Held")
    assert _serious(page) == []
    sign_out(page, portal.url)

    # Lifted: what staff did while it lasted shows.
    _officer_in_admin(page, portal, officer)
    page.goto(f"{portal.url}/admin/compliance/legalhold/")
    page.locator("#result_list tbody a").first.click()
    page.locator("#id_lift").check()
    page.locator("#id_release_reason").fill("Investigation closed")
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    page.goto(f"{portal.url}/")
    sign_out(page, portal.url)
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.goto(f"{portal.url}/me/activity/")
    expect(page.locator("tr.activity-viewed").first).to_contain_text("Staff")


def test_a_hold_the_customer_may_know_of_shows_as_held(page, portal):
    customer = VerifiedUserFactory()
    device_add(user=customer, mac=MAC, label="Phone")
    sessions_record(CollectorFactory(), [{"mac": MAC, "ip": IP, "started_at": timezone.now() - timedelta(days=3)}])
    _officer_in_admin(page, portal, PrivacyOfficerFactory())
    _place_hold(page, portal, told=True)
    page.goto(f"{portal.url}/")
    sign_out(page, portal.url)

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.goto(f"{portal.url}/logs/")
    expect(page.locator("table.sessions td.held")).to_have_text("Held (legal hold)")
    page.goto(f"{portal.url}/me/data/")
    expect(page.locator("main")).to_contain_text("Tribunal judiciaire de Paris")
    expect(page.locator("main")).to_contain_text("Held (legal hold)")
    assert _serious(page) == []
