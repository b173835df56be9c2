"""Devices and their sessions in Chromium: add in any spelling, refused addresses,
sessions sent through the ingest API shown on /logs/ with their totals and filters,
rename, remove after re-authentication, and the deletion notice in the mailbox."""

import json
import re
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accesslogs.tests.factories import CollectorFactory, session_row, sessions_csv
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, reauthenticate, sign_in
from cloudportal.tests.test_accessibility import _serious
from devices.models import Device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANDOMISED_NOTE = "This address is randomised: the device may use a different one on other networks"


def add_device(page, mac: str, label: str = "") -> None:
    page.get_by_label("MAC address").fill(mac)
    page.get_by_label("Label", exact=True).fill(label)
    button(page, "Add the device").click()


def ingest(portal, token: str, rows: list[dict]) -> dict:
    """Send a batch to the running portal's ingest API, as network equipment does."""
    request = urllib.request.Request(
        f"{portal.url}/api/ingest/sessions",
        data=sessions_csv([session_row(**row) for row in rows]),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own server
        return json.load(response)


def test_add_refuse_rename_and_remove_devices_and_see_their_sessions(page, portal, smtp_server):
    customer = VerifiedUserFactory()
    collector = CollectorFactory(name="Gare de Lyon")
    day = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=3)
    # Recorded before the customer registers the address: never theirs to see.
    assert ingest(portal, collector.token, [{"mac": "AA:BB:CC:DD:EE:02", "started_at": day - timedelta(days=1)}]) == {
        "accepted": 1,
        "duplicates": 0,
    }
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your devices")
    expect(page.get_by_role("main")).to_contain_text("You have not added any device yet.")

    # Two spellings, one canonical form; a randomised address comes with a note.
    add_device(page, "AA-BB-CC-DD-EE-01", "Ada's phone")
    expect(page.locator(".message-success")).to_have_text("The device AA:BB:CC:DD:EE:01 has been added.")
    expect(page.locator(".message-warning")).to_contain_text(RANDOMISED_NOTE)
    add_device(page, "aabb.ccdd.ee02", "Laptop")
    rows = page.locator("table.devices tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("AA:BB:CC:DD:EE:01")
    expect(rows.nth(0)).to_contain_text("Ada's phone")
    expect(rows.nth(0)).to_contain_text(RANDOMISED_NOTE)
    expect(rows.nth(1)).to_contain_text("AA:BB:CC:DD:EE:02")
    expect(rows.nth(1)).to_contain_text("Laptop")
    for heading in ("MAC address", "Label", "Added", "Last seen", "Sessions"):
        expect(page.get_by_role("columnheader", name=heading)).to_be_visible()

    # Addresses that are not one device: a clear message, and nothing stored.
    add_device(page, "ff:ff:ff:ff:ff:ff")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    expect(page.get_by_text("This is the broadcast address, which does not belong to any device.")).to_be_visible()
    add_device(page, "zz")
    expect(page.get_by_text("“zz” is not a MAC address.", exact=False)).to_be_visible()
    problems = _serious(page)  # a form showing errors
    assert Device.objects.filter(user=customer).count() == 2

    # The equipment reports sessions: three of the phone's, two of the laptop's (one of
    # them from another IP address), and one of a device nobody registered.
    sessions = [
        {"mac": "AA:BB:CC:DD:EE:01", "started_at": day + timedelta(hours=n), "bytes_in": 1_000_000} for n in (0, 2, 4)
    ]
    sessions += [
        {"mac": "AA:BB:CC:DD:EE:02", "started_at": day - timedelta(days=1), "ip": "192.0.2.99", "bytes_in": 500_000},
        {"mac": "AA:BB:CC:DD:EE:02", "started_at": day + timedelta(hours=6), "bytes_in": 500_000},
        {"mac": "02:00:00:00:99:99", "started_at": day},
    ]
    sessions = [session_row(**row) for row in sessions]
    assert ingest(portal, collector.token, sessions) == {"accepted": 6, "duplicates": 0}
    assert ingest(portal, collector.token, sessions) == {"accepted": 0, "duplicates": 6}
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Network sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your network sessions")
    table = page.locator("table.sessions tbody tr")
    expect(table).to_have_count(5)
    expect(page.locator('[data-total="sessions"]')).to_have_text("5")
    expect(page.locator('[data-total="duration"]')).to_have_text("5 h")
    expect(page.locator('[data-total="bytes_in"]')).to_have_text("3.8\xa0MB")
    expect(page.get_by_role("main")).not_to_contain_text("02:00:00:00:99:99")
    page.get_by_label("Device").select_option(label="Laptop (AA:BB:CC:DD:EE:02)")
    button(page, "Show these sessions").click()
    expect(table).to_have_count(2)
    expect(page.locator('[data-total="sessions"]')).to_have_text("2")
    page.get_by_label("IP address").fill("192.0.2.99")
    button(page, "Show these sessions").click()
    expect(table).to_have_count(1)
    expect(table.first).to_contain_text("192.0.2.99")
    page.get_by_label("Device").select_option(index=0)
    page.get_by_label("IP address").fill("")
    page.get_by_label("From", exact=True).fill(day.date().isoformat())
    page.get_by_label("To", exact=True).fill(day.date().isoformat())
    button(page, "Show these sessions").click()
    expect(table).to_have_count(4)  # the laptop's session of the day before is left out
    expect(page.locator('[data-total="sessions"]')).to_have_text("4")
    expect(table.first).to_contain_text("Laptop")
    expect(table.last).to_contain_text("Ada's phone")
    problems += _serious(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    for mac, count in (("AA:BB:CC:DD:EE:01", "3"), ("AA:BB:CC:DD:EE:02", "2")):
        expect(page.locator(f'[data-sessions="{Device.objects.get(mac=mac).pk}"]')).to_have_text(count)

    # Readable on a phone: nothing but the table's own scrolling region is wider than the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_role("navigation", name="Main").get_by_text("Menu").click()  # the navigation is a menu there
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems += _serious(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Rename.
    page.get_by_role("link", name="Rename AA:BB:CC:DD:EE:02").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rename a device")
    problems += _serious(page)
    page.get_by_label("Label", exact=True).fill("Work laptop")
    button(page, "Save").click()
    expect(page.locator(".message-success")).to_have_text("The device AA:BB:CC:DD:EE:02 has been renamed.")
    expect(rows.nth(1)).to_contain_text("Work laptop")

    # Remove: the password first, then a confirmation, then it is gone.
    phone = Device.objects.get(mac="AA:BB:CC:DD:EE:01")
    page.get_by_role("link", name="Remove AA:BB:CC:DD:EE:01").click()
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/devices/{phone.pk}/remove/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove this device?")
    expect(page.get_by_role("main")).to_contain_text("AA:BB:CC:DD:EE:01")
    problems += _serious(page)
    assert Device.objects.filter(pk=phone.pk).exists()
    button(page, "Remove the device").click()
    expect(page).to_have_url(f"{portal.url}/devices/")
    expect(page.locator(".message-success")).to_have_text("The device AA:BB:CC:DD:EE:01 has been removed.")
    expect(rows).to_have_count(1)
    expect(page.locator("table.devices")).not_to_contain_text("AA:BB:CC:DD:EE:01")
    assert not Device.objects.filter(pk=phone.pk).exists()

    # The deletion notice reaches the mailbox, naming the device.
    (message,) = smtp_server.wait_for(1, to=customer.email)
    text, html = smtp_server.parts(message)
    assert "Some of your data has been deleted" in message["Subject"]
    assert "Ada's phone (AA:BB:CC:DD:EE:01)" in text
    assert "AA:BB:CC:DD:EE:01" in html

    # And the activity history says what happened, without the address itself.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    latest = page.locator("tbody tr").first
    expect(latest).to_contain_text("Deleted")
    expect(latest).to_contain_text(re.compile(r"Devices: MAC address, label"))
    expect(page.get_by_role("main")).not_to_contain_text("AA:BB:CC:DD:EE:01")
    assert problems == []
