"""Passkeys and the address the portal is opened at: `make run` serves and prints
http://localhost:8000/ (WebAuthn refuses an IP address as relying party), and the
passkey pages say so, instead of a button that cannot work, where passkeys are not
available (an IP address, or plain HTTP other than localhost)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from .factories import DEFAULT_PASSWORD, VerifiedUserFactory

ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = "Passkeys do not work at this address"


def test_make_run_serves_and_prints_localhost():
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "SITE_URL"}}
    result = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    assert "http://localhost:8000/" in result.stdout
    assert "runserver localhost:8000" in result.stdout
    assert "127.0.0.1" not in result.stdout


def test_the_embedded_site_url_is_localhost():
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DJANGO_SETTINGS_MODULE"}}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "cloudportal.settings.local"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://localhost:8000"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "secure", "available"),
    [
        ("localhost:8000", False, True),
        ("portal.localhost:8000", False, True),
        ("privacy.example.net", True, True),
        ("127.0.0.1:8000", False, False),
        ("[::1]:8000", False, False),
        ("192.0.2.10", True, False),
        ("privacy.example.net", False, False),
    ],
)
def test_the_sign_in_page_offers_passkeys_only_where_they_work(client, settings, host, secure, available):
    settings.ALLOWED_HOSTS = ["*"]
    page = client.get(reverse("account_login"), HTTP_HOST=host, secure=secure).content.decode()
    assert ("Sign in with a passkey" in page) is available
    assert (UNAVAILABLE in page) is not available
    if host.startswith("127.0.0.1"):
        assert "http://localhost:8000/accounts/login/" in page  # where they do work


@pytest.mark.django_db
def test_the_passkey_pages_say_why_instead_of_a_button_that_fails(client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    client.force_login(VerifiedUserFactory())
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD}, HTTP_HOST="127.0.0.1:8000")
    add = client.get(reverse("mfa_add_webauthn"), HTTP_HOST="127.0.0.1:8000").content.decode()
    assert UNAVAILABLE in add and 'id="mfa_webauthn_add"' not in add
    overview = client.get(reverse("mfa_index"), HTTP_HOST="127.0.0.1:8000").content.decode()
    assert UNAVAILABLE in overview
    add = client.get(reverse("mfa_add_webauthn"), HTTP_HOST="localhost:8000").content.decode()
    assert UNAVAILABLE not in add and 'id="mfa_webauthn_add"' in add
