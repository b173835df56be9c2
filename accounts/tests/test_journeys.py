"""Customer journeys in Chromium: sign up, verify, sign in and out; turn on MFA."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from .factories import DEFAULT_PASSWORD, VerifiedUserFactory

pytestmark = pytest.mark.browser


def button(page: Page, label: str):
    """The button a user would press, by its visible label (any case)."""
    return page.get_by_role("button", name=re.compile(rf"^\s*{re.escape(label)}\s*$", re.IGNORECASE))


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    button(page, "Sign in").click()


def sign_out(page: Page, base_url: str) -> None:
    button(page, "Sign out").click()
    if "/accounts/logout/" in page.url:  # allauth asks to confirm
        page.locator('form[action$="/accounts/logout/"] button[type="submit"]').first.click()
    expect(page).to_have_url(f"{base_url}/")


def reauthenticate(page: Page, password: str) -> None:
    """allauth asks for the password again before a sensitive change."""
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password", exact=True).fill(password)
    button(page, "Confirm").click()


def expect_dashboard(page: Page, base_url: str, email: str) -> None:
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("main")).to_contain_text(email)


def expect_landing(page: Page, email: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data, in your hands")
    expect(page.get_by_role("link", name="Sign in", exact=True).first).to_be_visible()
    expect(button(page, "Sign out")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(email)


def fresh_totp(totp: pyotp.TOTP) -> str:
    """A code that stays valid while it is typed: allauth accepts only the current
    30-second window (MFA_TOTP_TOLERANCE 0), so never one about to expire."""
    left = totp.interval - time.time() % totp.interval
    if left < 3:
        time.sleep(left + 0.2)
    return totp.now()


def test_sign_up_verify_sign_in_and_out(page, portal, smtp_server):
    email = "new.customer@example.com"
    password = "a-long-and-unusual-passphrase"

    page.goto(f"{portal.url}/accounts/signup/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password (again)").fill(password)
    button(page, "Sign up").click()
    expect(page).to_have_url(f"{portal.url}/accounts/confirm-email/")

    [message] = smtp_server.wait_for(1, to=email)
    text, html = smtp_server.parts(message)
    assert text, "the verification email has no text/plain part"
    assert html, "the verification email has no text/html part"
    link = re.search(r"https?://\S+/accounts/confirm-email/[^\s/]+/", text)
    assert link, text
    assert link.group(0).startswith(portal.url)
    assert link.group(0) in html

    # An unverified address cannot sign in yet.
    sign_in(page, portal.url, email, password)
    expect(page).not_to_have_url(f"{portal.url}/")

    page.goto(link.group(0))
    expect(page.get_by_role("main")).to_contain_text(email)
    button(page, "Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    sign_in(page, portal.url, email, password)
    expect_dashboard(page, portal.url, email)

    sign_out(page, portal.url)
    expect_landing(page, email)


def test_turn_on_authenticator_app_then_sign_in_with_a_code(page, portal):
    user = VerifiedUserFactory()
    sign_in(page, portal.url, user.email, DEFAULT_PASSWORD)
    expect_dashboard(page, portal.url, user.email)

    # Turning MFA on always asks for the password again, then comes back.
    page.goto(f"{portal.url}/accounts/2fa/totp/activate/")
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), secret
    totp = pyotp.TOTP(secret)

    page.locator('input[name="code"]').fill(fresh_totp(totp))
    button(page, "Activate").click()

    # Recovery codes are offered straight away.
    expect(page).to_have_url(f"{portal.url}/accounts/2fa/recovery-codes/")
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    assert all(re.fullmatch(r"[0-9A-Za-z]{6,}", code) for code in codes)

    sign_out(page, portal.url)
    expect_landing(page, user.email)

    sign_in(page, portal.url, user.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/accounts/2fa/authenticate/")
    # The password alone does not sign in: the portal, asked now, is still the landing page.
    home = page.request.get(f"{portal.url}/")
    assert home.ok
    assert "Your data, in your hands" in home.text()
    assert user.email not in home.text()

    page.locator('input[name="code"]').fill(fresh_totp(totp))
    button(page, "Sign in").click()
    expect_dashboard(page, portal.url, user.email)
