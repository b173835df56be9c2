"""In Chromium, in English and French: a customer signed in on a laptop and on a phone
sees both browsers named on the signed-in browsers page, and signs the phone out from
the laptop; the phone is signed out at its next page, the laptop is not."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import sign_in
from policies.tests.test_statement_journey import serious_findings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
TEXTS = {
    "en": {
        "heading": "Signed-in browsers",
        "laptop": re.compile(r"^HeadlessChrome \d+ on Linux"),
        "phone": "Mobile Safari 17 on iOS 17.4",
        "this": "This browser",
        "end": "Sign out this browser",
        "done": "Mobile Safari 17 on iOS 17.4 is signed out.",
    },
    "fr": {
        "heading": "Navigateurs connectés",
        "laptop": re.compile(r"^HeadlessChrome \d+ sous Linux"),
        "phone": "Mobile Safari 17 sous iOS 17.4",
        "this": "Ce navigateur",
        "end": "Déconnecter ce navigateur",
        "done": "Mobile Safari 17 sous iOS 17.4 est déconnecté.",
    },
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_customer_signs_out_their_phone_from_their_laptop(page, browser, portal, language):
    texts = TEXTS[language]
    customer = VerifiedUserFactory(language=language)
    phone_context = browser.new_context(
        locale="en-GB", user_agent=PHONE_USER_AGENT, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = phone_context.new_page()
    try:
        sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
        sign_in(phone, portal.url, customer.email, DEFAULT_PASSWORD)
        expect(phone).to_have_url(f"{portal.url}/")

        # On the phone, 390 px wide: both browsers named, nothing scrolls sideways.
        phone.goto(f"{portal.url}/accounts/sessions/")
        expect(phone.get_by_role("heading", level=1)).to_have_text(texts["heading"])
        expect(phone.locator(".signin-session h2")).to_have_count(2)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390

        # On the laptop: this browser first, then the phone, which it signs out.
        page.goto(f"{portal.url}/accounts/sessions/")
        cards = page.locator(".signin-session")
        expect(cards.nth(0).get_by_role("heading", level=2)).to_have_text(texts["laptop"])
        expect(cards.nth(0)).to_contain_text(texts["this"])
        expect(cards.nth(1).get_by_role("heading", level=2)).to_have_text(texts["phone"])
        assert serious_findings(page) == []
        cards.nth(1).get_by_role("button", name=texts["end"]).click()
        expect(page.locator(".messages")).to_contain_text(texts["done"])
        expect(page.locator(".signin-session")).to_have_count(1)
        expect(page.get_by_role("button", name=texts["end"])).to_have_count(0)

        # The phone is signed out at its next page; the laptop is not.
        phone.goto(f"{portal.url}/devices/")
        expect(phone).to_have_url(re.compile(r"/accounts/login/\?next=/devices/"))
        page.goto(f"{portal.url}/devices/")
        expect(page).to_have_url(f"{portal.url}/devices/")
    finally:
        phone_context.close()
