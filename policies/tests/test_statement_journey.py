"""Must show 1, in Chromium: a Privacy officer drafts, previews, diffs and publishes a
material version that takes effect later, in English and French (publishing is refused,
saying why, while the French text is missing); every customer receives exactly one
email, in their language, with the changelog and the date; once the switch-over has
run, a customer who signs in is sent to accept, sees what changed, accepts and reaches
the dashboard, and a customer who reads the portal in French does all that in French."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from celery.result import allow_join_result
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.groups import PRIVACY_OFFICER
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory
from accounts.tests.test_journeys import button, expect_dashboard, sign_in, sign_out
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

OLD_BODY_FR = """## Journaux d’accès au réseau

Nous conservons chaque session 12 mois, puis nous l’effaçons.

## Contact

Utilisez la page des demandes du portail."""

NEW_BODY_FR = OLD_BODY_FR.replace("12 mois", "6 mois")
CHANGELOG_FR = "Les journaux d’accès au réseau sont désormais conservés 6 mois au lieu de 12."


def serious_findings(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url}: {v['id']}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_officer_publishes_a_material_change_customers_are_told_once_then_accept_it(
    page, portal, smtp_server, settings
):
    # A material change needs POLICY_NOTICE_DAYS of notice; a few seconds here, so the
    # journey can see the switch-over happen rather than wait a month.
    settings.POLICY_NOTICE_DAYS = 0
    in_force = PublishedVersionFactory(version="1.0", material=True, body=OLD_BODY, body_fr=OLD_BODY_FR)
    customers = [*VerifiedUserFactory.create_batch(2), VerifiedUserFactory(language="fr")]
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
    effective = timezone.localtime(timezone.now() + timedelta(seconds=35)).replace(microsecond=0)
    page.locator("#id_version").fill("2.0")
    page.locator("#id_title").fill("Privacy statement")
    page.locator("#id_material").check()
    page.locator("#id_effective_at_0").fill(effective.strftime("%Y-%m-%d"))
    page.locator("#id_effective_at_1").fill(effective.strftime("%H:%M:%S"))
    page.locator("#id_changelog").fill("Network access logs are now kept for 6 months instead of 12.")
    page.locator("#id_body").fill(NEW_BODY)
    page.locator('input[name="_continue"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # Without the French text, the preview says what is missing and publishing is refused.
    page.get_by_role("link", name="Preview and compare").click()
    expect(page.locator(".statement-missing")).to_contain_text("title in French")
    page.get_by_role("button", name="Publish this version").click()
    expect(page.locator(".messagelist .error")).to_contain_text(
        "Write the statement in English and in French before publishing"
    )
    expect(page.locator(".messagelist .error")).to_contain_text("statement in French (Markdown)")
    assert not StatementVersion.objects.get(version="2.0").is_published

    # The officer writes the French text.
    page.get_by_role("link", name="Edit the draft").click()
    page.locator("#id_title_fr").fill("Déclaration de confidentialité")
    page.locator("#id_changelog_fr").fill(CHANGELOG_FR)
    page.locator("#id_body_fr").fill(NEW_BODY_FR)
    page.locator('input[name="_continue"]').click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # Preview, with the diff against the version in force in both languages, then publish.
    page.get_by_role("link", name="Preview and compare").click()
    expect(page.locator(".statement-missing")).to_have_count(0)
    expect(page.locator("h2").filter(has_text="Changes against the version in force (1.0)")).to_be_visible()
    english, french = page.locator(".statement-diff[lang=en]"), page.locator(".statement-diff[lang=fr]")
    expect(english.locator(".diff-changed del")).to_have_text("Removed: 12")
    expect(english.locator(".diff-changed ins")).to_have_text("Added: 6")
    expect(french.locator(".diff-changed del")).to_contain_text("12")
    expect(french.locator(".diff-changed ins")).to_contain_text("6")
    expect(french.locator(".diff-changed")).to_contain_text("Nous conservons chaque session")
    expect(page.locator(".statement-body[lang=en]").last).to_contain_text("We keep each session for 6 months")
    expect(page.locator(".statement-body[lang=fr]").last).to_contain_text("Nous conservons chaque session 6 mois")
    page.get_by_role("button", name="Publish this version").click()
    expect(page.locator(".messagelist")).to_contain_text("Version 2.0 is published")
    version = StatementVersion.objects.get(version="2.0")
    assert version.is_published and version.effective_at == effective

    # Every customer gets exactly one notice, in their language, with the changelog and the date.
    messages = smtp_server.wait_for(3, timeout=20)
    dates = {}
    for code in ("en", "fr"):
        with translation.override(code):
            dates[code] = date_format(effective, "DATE_FORMAT")
    assert Counter(str(m["To"]) for m in messages) == Counter(c.email for c in customers)
    for message in messages:
        text, html = smtp_server.parts(message)
        french = str(message["To"]) == customers[2].email
        for part in (text, html):
            if french:
                assert CHANGELOG_FR in part and "Network access logs" not in part
                assert f"Elle prend effet le {dates['fr']}." in part
            else:
                assert "Network access logs are now kept for 6 months instead of 12." in part
                assert f"It takes effect on {dates['en']}." in part
            assert f"{portal.url}/privacy/diff/1.0/2.0/" in part
    # Queuing again or the beat running finds nothing more to send.
    # Celery's "am I inside a task?" flag is one per process, and Task.apply (a task run
    # in-process, as the live server's thread may be doing) sets it while it runs: this
    # thread is not a task, so it may wait for the worker's result.
    with allow_join_result():
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
    with allow_join_result():
        assert statements_switch_over.delay().get() == version.pk

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/privacy/accept/?next=%2F")
    expect(page.get_by_role("heading", level=1)).to_have_text("Our privacy statement has changed")
    expect(page.get_by_role("heading", name="What changed since version 1.0, which you accepted")).to_be_visible()
    # The changed words are marked inside the sentence, which is shown once.
    expect(page.locator(".diff-changed")).to_contain_text("We keep each session for")
    expect(page.locator(".diff-changed del")).to_have_text("Removed: 12")
    expect(page.locator(".diff-changed ins")).to_have_text("Added: 6")
    assert serious_findings(page) == []
    # Other pages wait until the customer accepts; the statement stays readable.
    page.goto(f"{portal.url}/devices/")
    expect(page).to_have_url(f"{portal.url}/privacy/accept/?next=%2Fdevices%2F")
    page.goto(f"{portal.url}/privacy/diff/1.0/2.0/")
    expect(page.locator(".diff-changed ins")).to_have_text("Added: 6")
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

    # A customer who reads the portal in French: the same, in French.
    sign_out(page, portal.url)
    french = customers[2]
    sign_in(page, portal.url, french.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/privacy/accept/?next=%2F")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notre déclaration de confidentialité a changé")
    expect(page.locator(".panel")).to_contain_text(CHANGELOG_FR)
    expect(page.locator(".diff-changed")).to_contain_text("Nous conservons chaque session")
    expect(page.locator(".diff-changed del")).to_have_text("Supprimé\u00a0: 12")
    expect(page.locator(".diff-changed ins")).to_have_text("Ajouté\u00a0: 6")
    assert serious_findings(page) == []
    page.goto(f"{portal.url}/privacy/diff/1.0/2.0/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifications de la version 1.0 à la version 2.0")
    expect(page.locator(".diff-changed")).to_contain_text("6 mois, puis nous l’effaçons.")
    assert serious_findings(page) == []
    page.goto(f"{portal.url}/privacy/accept/")
    button(page, "J’accepte la version 2.0").click()
    expect(page).to_have_url(f"{portal.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    assert StatementAcceptance.objects.get(user=french, version=version).language == "fr"
