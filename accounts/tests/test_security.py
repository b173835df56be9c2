"""Sign-in throttling, no account enumeration, MFA before the admin, deployment
settings, CSP on every page and the health check."""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
from allauth.account import app_settings as account_settings
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings as django_settings
from django.urls import reverse

from .factories import DEFAULT_PASSWORD, StaffUserFactory, VerifiedUserFactory

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = "/accounts/login/"


def sign_in(client, email: str, password: str, **extra):
    return client.post(LOGIN_URL, {"login": email, "password": password, **extra})


def is_signed_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200 and b"Signed in as" in response.content


# --- Throttled sign-ins ---------------------------------------------------------


@pytest.mark.django_db
def test_repeated_failed_sign_ins_are_throttled_even_with_the_right_password(client):
    user = VerifiedUserFactory()

    for _ in range(5):
        response = sign_in(client, user.email, "not-the-password")
        assert response.status_code == 200
        assert "not correct" in response.text
        assert "Too many failed login attempts" not in response.text

    response = sign_in(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.text
    assert not is_signed_in(client)

    # Another address from the same browser is not locked out by this one.
    other = VerifiedUserFactory()
    assert sign_in(client, other.email, DEFAULT_PASSWORD).status_code == 302
    assert is_signed_in(client)


@pytest.mark.django_db
def test_the_sign_in_throttle_is_shared_through_the_cache(client):
    """The counters live in the shared cache (Redis), so every web process sees them:
    a fresh browser session is still refused, and the lock lifts when they expire."""
    from django.core.cache import cache

    user = VerifiedUserFactory()
    for _ in range(5):
        sign_in(client, user.email, "not-the-password")

    client.cookies.clear()
    assert "Too many failed login attempts" in sign_in(client, user.email, DEFAULT_PASSWORD).text

    cache.clear()  # what the rate-limit window does when it ends
    assert sign_in(client, user.email, DEFAULT_PASSWORD).status_code == 302
    assert is_signed_in(client)


# --- No account enumeration -----------------------------------------------------


def visible(html: str) -> str:
    """A page as the browser gets it, less the CSRF token that differs on every render."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


@pytest.mark.django_db
def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    client, smtp_server, django_capture_on_commit_callbacks
):
    user = VerifiedUserFactory()
    answers = []
    for address in (user.email, "nobody-here@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("account_reset_password"), {"email": address})
        done = client.get(response["Location"])
        answers.append((response.status_code, response["Location"], done.status_code, visible(done.text)))

    known, unknown = answers
    assert known == unknown
    assert known[0] == 302
    assert known[1] == reverse("account_reset_password_done")

    # Only the customer gets a link that resets a password.
    [to_customer] = smtp_server.wait_for(1, to=user.email)
    text, html = smtp_server.parts(to_customer)
    assert "/accounts/password/reset/key/" in text
    assert html is not None
    # A stranger's address gets, at most, a note that it has no account here.
    to_stranger = smtp_server.received(to="nobody-here@example.com")
    assert len(to_stranger) == (1 if account_settings.EMAIL_UNKNOWN_ACCOUNTS else 0)
    for message in to_stranger:
        text, _ = smtp_server.parts(message)
        assert "/accounts/password/reset/key/" not in text
    assert len(smtp_server.messages) == 1 + len(to_stranger)


# --- The admin goes through allauth, with MFA ------------------------------------


@pytest.mark.django_db
def test_admin_login_is_allauths_sign_in(client):
    response = client.get("/admin/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"{LOGIN_URL}?next=%2Fadmin%2F"
    assert 'name="password"' in response.text
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


@pytest.mark.django_db
def test_staff_with_an_authenticator_app_is_asked_for_a_code_before_the_admin(client):
    staff = StaffUserFactory()
    secret = pyotp.random_base32()
    TOTP.activate(staff, secret)

    response = sign_in(client, staff.email, DEFAULT_PASSWORD, next="/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone does not open the admin.
    response = client.get("/admin/")
    assert response.status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": current_totp(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Site administration" in response.text


def current_totp(secret: str) -> str:
    """A code that stays valid for at least two more seconds (allauth has no tolerance)."""
    if 30 - time.time() % 30 < 2:
        time.sleep(30 - time.time() % 30 + 0.1)
    return pyotp.TOTP(secret).now()


# --- Production settings ------------------------------------------------------------


def production_env(**overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cloudportal.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "privacy.example.net",
        "DATABASE_URL": "postgres://portal:secret@db.internal:5432/cloudportal",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "FIELD_ENCRYPTION_KEYS": "Y2xvdWRwb3J0YWwtcHJvZC1rZXktMDAwMDAwMDAwMDAwMDA=",
        "EMAIL_URL": "smtp://mailer:secret@mail.internal:587",
        "DISCLOSURE_SIGNING_KEY": secrets.token_urlsafe(48),
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_deploy_checks_pass_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env=production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_disclosure_signing_key():
    result = manage("check", env=production_env(DISCLOSURE_SIGNING_KEY=None))
    assert result.returncode != 0
    assert "DISCLOSURE_SIGNING_KEY" in result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import json, sys, django; django.setup(); from django.conf import settings as s; "
        "sys.stdout.write(json.dumps({k: getattr(s, k) for k in ["
        "'DEBUG', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE', 'SECURE_REFERRER_POLICY']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_REFERRER_POLICY"]


# --- A strict Content-Security-Policy on every page ------------------------------


def script_sources(policy: str) -> list[str]:
    directives = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        directives[name.lower()] = values
    return directives.get("script-src", directives.get("default-src"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "who", "status"),
    [
        ("/", None, 200),
        ("/accounts/login/", None, 200),
        ("/accounts/signup/", None, 200),
        ("/accounts/password/reset/", None, 200),
        ("/", "customer", 200),
        ("/devices/", "customer", 200),
        ("/logs/", "customer", 200),
        ("/no-such-page/", None, 404),
        ("/privacy/", None, 200),
        ("/admin/", "staff", 200),
    ],
)
def test_every_page_has_a_strict_content_security_policy(client, path, who, status):
    if who == "customer":
        client.force_login(VerifiedUserFactory())
    elif who == "staff":
        client.force_login(StaffUserFactory())

    response = client.get(path)

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{path} has no Content-Security-Policy"
    sources = script_sources(policy)
    assert sources, f"{path}: no script-src nor default-src in {policy!r}"
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    assert "frame-ancestors 'none'" in policy
    assert response.headers.get("Referrer-Policy") == django_settings.SECURE_REFERRER_POLICY
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


# --- Health check ---------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_ok_when_the_database_and_broker_answer(client, settings, celery_conf):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_conf(broker_url=settings.CELERY_BROKER_URL)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_reports_a_broker_outage_quickly(client, settings, celery_conf):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_conf(broker_url="redis://127.0.0.1:1/0")

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}
    assert elapsed < 3


@pytest.mark.django_db
def test_make_primary_on_the_address_that_already_is_primary_changes_nothing(client):
    """No security email "changed from X to X", no history entry."""
    from allauth.account.models import EmailAddress

    from accounts.models import ActivityEvent
    from cloudportal.core.models import OutboundEmail

    user = VerifiedUserFactory()
    EmailAddress.objects.create(user=user, email="second@example.com", verified=True, primary=False)
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    response = client.post(reverse("account_email"), {"email": user.email, "action_primary": ""})
    assert response.status_code == 302
    assert not OutboundEmail.objects.filter(to=user.email).exists()
    assert not ActivityEvent.objects.filter(user=user).exists()
    assert EmailAddress.objects.get(user=user, primary=True).email == user.email

    # Making the other address primary is still a change, emailed and recorded.
    response = client.post(reverse("account_email"), {"email": "second@example.com", "action_primary": ""})
    assert response.status_code == 302
    assert OutboundEmail.objects.filter(to=user.email, template="account/email/email_changed").exists()
    assert ActivityEvent.objects.filter(user=user, fields=["primary_email"]).count() == 1
