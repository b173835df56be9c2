"""Passkeys in Chromium, with a virtual authenticator (Chrome DevTools' WebAuthn
domain): add a passkey, sign out, sign in with it and no password."""

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from .factories import DEFAULT_PASSWORD, VerifiedUserFactory
from .test_journeys import button, expect_dashboard, reauthenticate, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _virtual_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_add_a_passkey_then_sign_in_with_it(page, portal):
    customer = VerifiedUserFactory()
    _virtual_authenticator(page)
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect_dashboard(page, portal.url, customer.email)

    # Adding a passkey always asks for the password again, then comes back.
    page.goto(f"{portal.url}/accounts/2fa/webauthn/add/")
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/accounts/2fa/webauthn/add/")
    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Passwordless").check()
    button(page, "Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    (passkey,) = Authenticator.objects.filter(user=customer, type=Authenticator.Type.WEBAUTHN)
    assert passkey.wrap().is_passwordless

    sign_out(page, portal.url)
    page.goto(f"{portal.url}/accounts/login/")
    button(page, "Sign in with a passkey").click()
    expect_dashboard(page, portal.url, customer.email)


def test_at_an_ip_address_the_passkey_pages_say_where_passkeys_work(page, portal):
    """`http://127.0.0.1:…` cannot use passkeys (a relying party is a name): the
    pages say so and link to the same page at localhost, where they work."""
    customer = VerifiedUserFactory(language="fr")
    at_ip = portal.url.replace("localhost", "127.0.0.1")
    page.goto(f"{at_ip}/accounts/login/")
    note = page.get_by_role("note")
    expect(note).to_contain_text("Passkeys do not work at this address.")
    expect(button(page, "Sign in with a passkey")).to_have_count(0)
    note.get_by_role("link").click()
    expect(page).to_have_url(f"{portal.url}/accounts/login/")
    expect(button(page, "Sign in with a passkey")).to_be_visible()

    # Signed in at the IP address, in French: adding a passkey says why not, and where.
    sign_in(page, at_ip, customer.email, DEFAULT_PASSWORD)
    page.goto(f"{at_ip}/accounts/2fa/webauthn/add/")
    page.get_by_label("Mot de passe", exact=True).fill(DEFAULT_PASSWORD)
    button(page, "Confirmer").click()
    expect(page.get_by_role("note")).to_contain_text("Les clés d’accès ne fonctionnent pas à cette adresse.")
    expect(page.get_by_role("note").get_by_role("link")).to_have_attribute(
        "href", f"{portal.url}/accounts/2fa/webauthn/add/"
    )
    expect(button(page, "Ajouter")).to_have_count(0)
