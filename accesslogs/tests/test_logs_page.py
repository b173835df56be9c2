"""/logs/ in Chromium: filter by device and read the totals, a bad filter, axe-core,
and a phone-sized screen. (The end-to-end journey is elsewhere; this checks the page
works in a browser under the portal's CSP.)"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, sign_in
from cloudportal.tests.test_accessibility import _serious
from devices.tests.factories import DeviceFactory

from .factories import CollectorFactory, sessions_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_sessions_by_device_and_read_the_totals(page, portal):
    customer = VerifiedUserFactory()
    DeviceFactory(user=customer, mac="00:1A:2B:00:0B:01", label="Phone")
    DeviceFactory(user=customer, mac="00:1A:2B:00:0B:02", label="Laptop")
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    sessions_record(
        CollectorFactory(),
        [
            {"mac": "00:1A:2B:00:0B:01", "started_at": start, "ended_at": start + timedelta(minutes=25)},
            *(
                {
                    "mac": "00:1A:2B:00:0B:02",
                    "started_at": start + timedelta(hours=n),
                    "ended_at": start + timedelta(hours=n, minutes=50),
                    "site": "Bibliothèque François-Mitterrand",
                    "site_address": "Quai François Mauriac, 75013 Paris",
                }
                for n in (1, 2, 3, 4)
            ),
        ],
    )
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Network sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your network sessions")
    expect(page.locator("table.sessions tbody tr")).to_have_count(5)
    expect(page.locator('[data-total="sessions"]')).to_have_text("5")

    page.get_by_label("Device").select_option(label="Laptop (00:1A:2B:00:0B:02)")
    button(page, "Show these sessions").click()

    expect(page.get_by_role("heading", name="Totals for these filters")).to_be_visible()
    expect(page.locator('[data-total="sessions"]')).to_have_text("4")
    expect(page.locator('[data-total="duration"]')).to_have_text("3 h 20 min")
    rows = page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Laptop")
    expect(rows.first).to_contain_text("Bibliothèque François-Mitterrand")
    for heading in ("Started", "Ended", "Duration", "Device", "IP address", "Site", "Data in", "Data out", "Erased on"):
        expect(page.get_by_role("columnheader", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Download these sessions as CSV")).to_have_attribute(
        "href", "/logs/export.csv?device=" + page.get_by_label("Device").input_value() + "&date_from=&date_to=&ip="
    )
    assert _serious(page) == []

    # A bad filter: the message beside the field, nothing else.
    page.get_by_label("IP address").fill("999.1.1.1")
    button(page, "Show these sessions").click()
    expect(page.get_by_role("alert").first).to_contain_text("Some filters are not valid")
    expect(page.get_by_text("Enter an IPv4 address such as 192.0.2.10, or an IPv6 address.")).to_be_visible()
    expect(page.locator("table.sessions")).to_have_count(0)
    assert _serious(page) == []

    # On a phone only the table's own region scrolls sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{portal.url}/logs/")
    expect(page.locator("table.sessions tbody tr")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
