"""Devices in Chromium: add in any spelling, refused addresses, rename, remove after
re-authentication, and the deletion notice in the mailbox."""

import re

import pytest
from playwright.sync_api import expect

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


def test_add_refuse_rename_and_remove_devices(page, portal, smtp_server):
    customer = VerifiedUserFactory()
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

    # Readable on a phone: nothing but the table's own scrolling region is wider than the screen.
    page.set_viewport_size({"width": 360, "height": 740})
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
