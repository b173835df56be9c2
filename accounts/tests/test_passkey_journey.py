"""Passkeys in Chromium, with a virtual authenticator (Chrome DevTools' WebAuthn
domain): add a passkey, sign out, sign in with it and no password."""

import pytest
from allauth.mfa.models import Authenticator

from .factories import DEFAULT_PASSWORD, VerifiedUserFactory
from .test_journeys import button, expect_dashboard, sign_in, sign_out

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

    page.goto(f"{portal.url}/accounts/2fa/webauthn/add/?passwordless")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
        button(page, "Confirm").click()
        page.goto(f"{portal.url}/accounts/2fa/webauthn/add/?passwordless")
    page.get_by_label("Name").fill("Laptop")
    passwordless = page.get_by_label("Passwordless")
    if passwordless.count():
        passwordless.check()
    button(page, "Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert Authenticator.objects.filter(user=customer, type=Authenticator.Type.WEBAUTHN).count() == 1

    sign_out(page, portal.url)
    page.goto(f"{portal.url}/accounts/login/")
    button(page, "Sign in with a passkey").click()
    expect_dashboard(page, portal.url, customer.email)
