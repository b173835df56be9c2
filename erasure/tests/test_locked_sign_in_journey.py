"""A customer who asked to delete their account signs in during the grace period, in
Chromium, in French on a phone: the page says when the account will be erased and how
to keep it, sends the confirmation email again, and its link keeps the account."""

import re

import pytest
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from accounts.tests.test_journeys import button, sign_in
from cloudportal.tests.test_accessibility import _serious
from erasure.services import account_delete_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signing_in_during_the_grace_period_then_keeping_the_account(page, portal, smtp_server, settings):
    settings.ERASURE_GRACE_HOURS = 24
    customer = VerifiedUserFactory(language="fr")
    erasure = account_delete_request(user=customer)
    [first] = smtp_server.wait_for(1, to=customer.email)
    with translation.override("fr"):
        when = formats.date_format(timezone.localtime(erasure.erase_after), "DATETIME_FORMAT")
    page.set_viewport_size({"width": 390, "height": 844})

    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{portal.url}/accounts/inactive/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est en cours de suppression")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"Sa suppression est prévue le {when}, à moins que vous ne le gardiez.")
    expect(page.get_by_role("main")).to_contain_text("Garder mon compte")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = _serious(page)

    button(page, "Renvoyer l’e-mail").click()
    expect(page.get_by_role("status")).to_contain_text("Nous avons renvoyé l’e-mail de confirmation.")
    messages = smtp_server.wait_for(2, to=customer.email)
    resent = messages[-1]
    assert resent["Subject"] == first["Subject"] and resent["Subject"].endswith("Nous supprimons votre compte")
    text, html = smtp_server.parts(resent)
    assert html and when in text
    link = re.search(r"https?://\S+/me/delete/cancel/\S+/", text).group(0)

    page.goto(link)  # not signed in: in the browser's language (en-GB here)
    button(page, "Keep my account").click()
    expect(page.locator(".message-success")).to_contain_text("Your account has been restored")
    sign_in(page, portal.url, customer.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    assert User.objects.get(pk=customer.pk).is_active
    assert problems == []
