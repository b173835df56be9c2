"""Signing in to an account waiting for its erasure: the page says when it will be
erased and how to cancel, and sends the confirmation email again on request
(rate-limited), in the customer's language and the portal's time zone. Nothing is
said, and nothing sent, to anyone who has not given the account's password."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, VerifiedUserFactory
from cloudportal.core.models import OutboundEmail
from erasure.models import ErasureRequest
from erasure.services import account_delete_request

pytestmark = pytest.mark.django_db

#: 23:30 UTC is half past midnight the next day in Paris.
ERASE_AFTER = datetime(2030, 3, 4, 23, 30, tzinfo=UTC)
CONFIRMATION = "emails/account_deletion_confirm"


@pytest.fixture
def locked(settings) -> User:
    settings.ERASURE_GRACE_HOURS = 24
    settings.TIME_ZONE = "Europe/Paris"
    user = VerifiedUserFactory(email="leaving@example.org")
    account_delete_request(user=user)
    ErasureRequest.objects.filter(user=user).update(erase_after=ERASE_AFTER)
    return user


def sign_in(client: Client, email: str, password: str = DEFAULT_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password}, follow=True)


def test_signing_in_says_when_the_account_will_be_erased_and_how_to_cancel(client, locked):
    response = sign_in(client, locked.email)
    assert response.redirect_chain[-1][0] == reverse("account_inactive")
    page = response.content.decode()
    assert "5 Mar 2030, 00:30" in page
    assert "confirmation email" in page and "Send the email again" in page
    assert "This account is inactive." not in page


def test_the_page_is_in_the_customers_language(client, locked):
    User.objects.filter(pk=locked.pk).update(language="fr")
    page = sign_in(client, locked.email).content.decode()
    assert '<html lang="fr"' in page
    assert "5 mars 2030, 00:30" in page
    assert "Renvoyer l’e-mail" in page


def test_the_button_sends_the_confirmation_again_with_a_cancel_link_that_works(
    client, locked, django_capture_on_commit_callbacks, mailoutbox
):
    sign_in(client, locked.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_inactive"), follow=True)
    assert response.status_code == 200
    assert "We have sent the confirmation email again" in response.content.decode()
    [resent] = [m for m in mailoutbox if m.to == [locked.email]]
    assert resent.alternatives and "We are deleting your account" in resent.subject
    assert "5 Mar 2030, 00:30" in resent.body
    link = re.search(r"https?://\S+(/me/delete/cancel/\S+/)", resent.body).group(1)
    anonymous = Client()
    assert anonymous.post(link).status_code == 302
    locked.refresh_from_db()
    assert locked.is_active is True


def test_sending_again_is_rate_limited(client, locked):
    sign_in(client, locked.email)
    for _ in range(3):
        assert client.post(reverse("account_inactive")).status_code == 302
    refused = client.post(reverse("account_inactive"))
    assert refused.status_code == 429
    assert "Please wait" in refused.content.decode()
    sent = OutboundEmail.objects.filter(to=locked.email, template=CONFIRMATION).count()
    assert sent == 1 + 3  # the first confirmation and three more


def test_nothing_is_said_or_sent_without_the_accounts_password(client, locked):
    """A wrong password says what it says for any address; the page and its button,
    reached without the right password, name no account and send nothing."""
    wrong = sign_in(client, locked.email, password="not-the-password").content.decode()
    unknown = sign_in(Client(), "nobody@example.org", password="not-the-password").content.decode()
    assert "2030" not in wrong and reverse("account_inactive") not in wrong
    assert re.sub(r"leaving@example.org|nobody@example.org", "", wrong).count("not correct") == re.sub(
        r"leaving@example.org|nobody@example.org", "", unknown
    ).count("not correct")
    stranger = Client()
    page = stranger.get(reverse("account_inactive")).content.decode()
    assert "2030" not in page and "Send the email again" not in page
    assert stranger.post(reverse("account_inactive")).status_code == 302
    assert OutboundEmail.objects.filter(to=locked.email, template=CONFIRMATION).count() == 1


def test_an_account_locked_for_another_reason_says_only_that_it_is_inactive(client):
    user = VerifiedUserFactory(is_active=False)
    page = sign_in(client, user.email).content.decode()
    assert "This account is inactive." in page and "Send the email again" not in page
    assert client.post(reverse("account_inactive")).status_code == 302
    assert not OutboundEmail.objects.filter(to=user.email).exists()


def test_signing_in_to_another_account_forgets_the_locked_one(client, locked):
    sign_in(client, locked.email)
    other = VerifiedUserFactory()
    sign_in(client, other.email)
    page = client.get(reverse("account_inactive")).content.decode()
    assert "2030" not in page and "Send the email again" not in page
