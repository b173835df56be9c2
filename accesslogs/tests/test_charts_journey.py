"""The usage charts in Chromium: drawn under the strict CSP (a violation is a console
error, which fails the test), no sideways scroll at 390 or 1280 px, the table of
numbers opens, and axe finds no serious problem, in English and French."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accesslogs.models import DailyUsage
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import sign_in
from cloudportal.tests.test_accessibility import _serious
from devices.tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Where to keep screenshots, when set (they are not part of the test's verdict).
SHOTS = os.environ.get("CHART_SCREENSHOTS")


def test_the_charts_draw_under_the_csp_fit_a_phone_and_read_as_a_table(page, portal):
    customer = VerifiedUserFactory()
    today = timezone.localdate()
    for number, label in enumerate(("Laptop", "Phone", "Tablet")):
        device = DeviceFactory(user=customer, label=label)
        DailyUsage.objects.bulk_create(
            DailyUsage(
                user=customer,
                mac=device.mac,
                day=today - timedelta(days=days_ago),
                sessions=1,
                seconds=600 * (1 + (days_ago + number) % 7),
                bytes_in=(1 + (days_ago * 7 + number) % 11) * 40 * 2**20,
                bytes_out=2**20,
            )
            for days_ago in range(0, 360, 1 + number)
        )
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    for language in ("en", "fr"):
        # Saved, as the preferences form saves it: a queryset update would leave the
        # kept user and pages (cloudportal/fragments.py) in the other language.
        customer.language = language
        customer.save(update_fields=["language"])
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            for path in ("/", "/devices/"):
                page.goto(f"{portal.url}{path}")
                expect(page.locator("html")).to_have_attribute("lang", language)
                chart = page.locator("#chart-daily-data")
                expect(chart.locator("svg[role=img] path.chart-series-2").first).to_be_attached()
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (path, width)
                if SHOTS:
                    page.screenshot(
                        path=f"{SHOTS}/{path.strip('/') or 'dashboard'}-{language}-{width}.png", full_page=True
                    )
                chart.locator("summary").click()
                expect(chart.locator("table tbody tr")).to_have_count(30)
                assert _serious(page) == [], (path, width, language)
    assert page.console_problems == []
