"""Customers take their data and leave, in Chromium with a real worker and SMTP
server: the export (re-authentication, progress, email, download, another customer's
404), and account deletion (confirmation, erasure, receipt, no more sign-in; with a
grace period, the cancel link restores the account)."""

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, reauthenticate, sign_in
from cloudportal import privacy
from cloudportal.tests.test_accessibility import _serious
from cloudportal.tests.test_privacy_registry import _fill
from erasure.tests.scan import scan
from exports.models import DataExport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expire_reauthentication(page) -> None:
    """Sign-in counts as recent for a few minutes; make it old, as after a while."""
    from importlib import import_module

    from django.conf import settings

    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    for method in session.get("account_authentication_methods", []):
        method["at"] = 0
    session.save()


def customer_with_data() -> User:
    user = VerifiedUserFactory(email="leaving.customer@example.org")
    _fill(user)
    User.objects.filter(pk=user.pk).update(language="en")
    user.refresh_from_db()
    return user


def test_export_reauthenticate_progress_email_download(page, browser, portal, celery_worker, smtp_server):
    customer = customer_with_data()
    expected = {c.key: len(list(c.export(customer))) for c in privacy.categories()}
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expire_reauthentication(page)
    page.goto(f"{portal.url}/me/data/")
    page.get_by_role("link", name="Download all your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export your data")
    problems = _serious(page)
    button(page, "Ask for an export").click()
    reauthenticate(page, DEFAULT_PASSWORD)
    # Progress, then the page turns to "ready" by itself.
    expect(page.get_by_role("heading", name="Your export is ready")).to_be_visible(timeout=30_000)
    problems += _serious(page)
    [email] = [m for m in smtp_server.wait_for(1, to=customer.email, timeout=20) if "export is ready" in m["Subject"]]
    text, html = smtp_server.parts(email)
    assert html and "/me/export/" in text  # the worker, a process of its own, has its own SITE_URL

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the ZIP file").click()
    data = open(info.value.path(), "rb").read()  # noqa: SIM115 - read once
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            import hashlib

            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
        content = json.loads(zf.read("data.json"))
    # The export itself and its request in the history are counted as they were when built.
    expected["exports"] += 1
    expected["activity"] += 1
    assert {k: v["count"] for k, v in content["categories"].items()} == expected

    # Another customer: the same link is a 404.
    export = DataExport.objects.get(user=customer, status=DataExport.Status.READY)
    other = VerifiedUserFactory()
    context = browser.new_context()
    tab = context.new_page()
    sign_in(tab, portal.url, other.email, DEFAULT_PASSWORD)
    response = tab.goto(f"{portal.url}/me/export/{export.pk}/download/")
    assert response.status == 404
    context.close()
    assert problems == []


def test_delete_the_account_receipt_and_no_more_sign_in(page, portal, celery_worker, smtp_server, settings):
    settings.ERASURE_GRACE_HOURS = 0  # the worker reads it from the request: queued at once
    customer = customer_with_data()
    email = customer.email
    sign_in(page, portal.url, email, DEFAULT_PASSWORD)
    expire_reauthentication(page)
    page.goto(f"{portal.url}/me/data/")
    page.get_by_role("link", name="Delete your account").click()
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your account?")
    for category in privacy.categories():
        expect(page.locator(f'tr[data-category="{category.key}"]')).to_contain_text(str(category.label))
    problems = _serious(page)
    button(page, "Delete my account").click()  # without the box: refused
    expect(page.get_by_role("alert").first).to_be_visible()
    page.get_by_label("I understand: delete my account and my data.").check()
    button(page, "Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is being deleted")
    problems += _serious(page)

    # The deletion notice and the data request's acknowledgement _fill queued, the
    # confirmation, and the receipt.
    messages = smtp_server.wait_for(4, to=email, timeout=30)
    subjects = [m["Subject"] for m in messages]
    assert any("We are deleting your account" in s for s in subjects), subjects
    [receipt] = [m for m in messages if "Your account has been erased" in m["Subject"]]
    text, html = smtp_server.parts(receipt)
    assert html
    for category in privacy.categories():
        assert str(category.label) in text, category.key
    assert re.search(r"kept: 1 session, .* \(the last of them until .+\)", text), text
    assert not User.objects.filter(email=email).exists()
    assert scan([email]) == []

    sign_in(page, portal.url, email, DEFAULT_PASSWORD)
    expect(page.get_by_role("alert").first).to_contain_text("not correct")
    assert problems == []


def test_with_a_grace_period_the_cancel_link_restores_the_account(page, portal, celery_worker, smtp_server, settings):
    settings.ERASURE_GRACE_HOURS = 24
    customer = customer_with_data()
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expire_reauthentication(page)
    page.goto(f"{portal.url}/me/delete/")
    reauthenticate(page, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your account?")
    page.get_by_label("I understand: delete my account and my data.").check()
    button(page, "Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is being deleted")
    # The deletion notice _fill queued, and the confirmation.
    messages = smtp_server.wait_for(2, to=customer.email, timeout=20)
    [confirmation] = [m for m in messages if "We are deleting your account" in m["Subject"]]
    text, _html = smtp_server.parts(confirmation)
    link = re.search(r"https?://\S+/me/delete/cancel/\S+/", text).group(0)
    # Locked meanwhile: signing in fails.
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/inactive/|/accounts/login/"))
    page.goto(link)
    problems = _serious(page)
    button(page, "Keep my account").click()
    expect(page.locator(".message-success")).to_contain_text("Your account has been restored")
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert User.objects.get(pk=customer.pk).is_active
    assert problems == []
