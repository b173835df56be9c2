"""Must show 1, in Chromium: a Privacy officer drafts, previews, diffs and publishes a
material version that takes effect later; every customer receives exactly one email
with the changelog and the date; once the switch-over has run, a customer who signs in
is sent to accept, sees what changed, accepts and reaches the dashboard."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.groups import PRIVACY_OFFICER
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory
from accounts.tests.test_journeys import button, expect_dashboard, sign_in
from cloudportal.core.models import OutboundEmail
from cloudportal.outbox import emails_send_pending
from policies.models import StatementAcceptance, StatementVersion
from policies.services import statement_accept
from policies.tasks import statement_notices_queue, statements_switch_over

from .factories import PublishedVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_BODY = """## Network access logs

We keep each session for 12 months, then erase it.

## Contact

Use the requests page of the portal."""

NEW_BODY = """## Network access logs

We keep each session for 6 months, then erase it.

## Contact

Use the requests page of the portal."""


def serious_findings(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_officer_publishes_a_material_change_customers_are_told_once_then_accept_it(
    page, portal, smtp_server, settings
):
    # A material change needs POLICY_NOTICE_DAYS of notice; a few seconds here, so the
    # journey can see the switch-over happen rather than wait a month.
    settings.POLICY_NOTICE_DAYS = 0
    in_force = PublishedVersionFactory(version="1.0", material=True, body=OLD_BODY)
    customers = VerifiedUserFactory.create_batch(3)
    for customer in customers:
        statement_accept(user=customer, version=in_force, ip_address="192.0.2.1", user_agent="test")
    officer = StaffUserFactory()
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))

    # The officer signs in to the admin and writes the draft.
    page.goto(f"{portal.url}/admin/")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Sign in").click()
    page.goto(f"{portal.url}/admin/policies/statementversion/add/")
    effective = timezone.localtime(timezone.now() + timedelta(seconds=25)).replace(microsecond=0)
    page.locator("#id_version").fill("2.0")
    page.locator("#id_title").fill("Privacy statement")
    page.locator("#id_material").check()
    page.locator("#id_effective_at_0").fill(effective.strftime("%Y-%m-%d"))
    page.locator("#id_effective_at_1").fill(effective.strftime("%H:%M:%S"))
    page.locator("#id_changelog").fill("Network access logs are now kept for 6 months instead of 12.")
    page.locator("#id_body").fill(NEW_BODY)
    page.locator('input[name="_continue"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # Preview, with the diff against the version in force, then publish.
    page.get_by_role("link", name="Preview and compare").click()
    expect(page.locator("h2").filter(has_text="Changes against the version in force (1.0)")).to_be_visible()
    expect(page.locator(".diff-removed")).to_contain_text("12 months")
    expect(page.locator(".diff-added")).to_contain_text("6 months")
    expect(page.locator(".statement-body").last).to_contain_text("We keep each session for 6 months")
    page.get_by_role("button", name="Publish this version").click()
    expect(page.locator(".messagelist")).to_contain_text("Version 2.0 is published")
    version = StatementVersion.objects.get(version="2.0")
    assert version.is_published and version.effective_at == effective

    # Every customer gets exactly one notice, with the changelog and the date.
    messages = smtp_server.wait_for(3, timeout=20)
    with translation.override("en"):
        date = date_format(effective, "DATE_FORMAT")
    assert Counter(str(m["To"]) for m in messages) == Counter(c.email for c in customers)
    for message in messages:
        text, html = smtp_server.parts(message)
        for part in (text, html):
            assert "Network access logs are now kept for 6 months instead of 12." in part
            assert f"It takes effect on {date}." in part
    # Queuing again or the beat running finds nothing more to send.
    assert statement_notices_queue.delay(version.pk).get() == 0
    emails_send_pending.delay()
    time.sleep(1)
    assert len(smtp_server.received()) == 3
    assert OutboundEmail.objects.filter(template="emails/statement_changed", status="sent").count() == 3

    # Before the effective date nothing stops the customer.
    customer = customers[0]
    page.goto(f"{portal.url}/")
    button(page, "Sign out").click()
    if "/accounts/logout/" in page.url:
        page.locator('form[action$="/accounts/logout/"] button[type="submit"]').first.click()

    # The effective date comes and the beat's switch-over runs.
    time.sleep(max(0.0, (effective - timezone.now()).total_seconds()) + 0.5)
    assert statements_switch_over.delay().get() == version.pk

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/privacy/accept/?next=%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Our privacy statement has changed")
    expect(page.get_by_role("heading", name="What changed since version 1.0, which you accepted")).to_be_visible()
    expect(page.locator("del.diff-removed")).to_contain_text("12 months")
    expect(page.locator("ins.diff-added")).to_contain_text("6 months")
    assert serious_findings(page) == []
    # Other pages wait until the customer accepts; the statement stays readable.
    page.goto(f"{portal.url}/devices/")
    expect(page).to_have_url(f"{portal.url}/privacy/accept/?next=%2Fdevices%2F")
    page.goto(f"{portal.url}/privacy/diff/1.0/2.0/")
    expect(page.locator("ins.diff-added")).to_contain_text("6 months")
    assert serious_findings(page) == []

    page.goto(f"{portal.url}/privacy/accept/")
    button(page, "I accept version 2.0").click()
    expect_dashboard(page, portal.url, customer.email)
    acceptance = StatementAcceptance.objects.get(user=customer, version=version)
    assert acceptance.ip_address == "127.0.0.1" and "Chrome" in acceptance.user_agent

    page.goto(f"{portal.url}/me/acceptances/")
    expect(page.locator("tbody tr").first).to_contain_text("2.0")
    expect(page.locator("tbody tr").first).to_contain_text("127.0.0.1")
    assert serious_findings(page) == []
