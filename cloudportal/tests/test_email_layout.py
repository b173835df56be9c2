"""The HTML of the project's emails: titled by their subject, and the footer says why
the email came, without claiming an account to someone who has none yet."""

import re

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cloudportal.outbox.render import email_render

pytestmark = pytest.mark.django_db


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1).strip()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_email_with_its_own_html_is_titled_by_its_subject(language):
    rendered = email_render(
        template="emails/account_deletion_confirm",
        context={"cancel_url": "https://portal.example/cancel", "erase_after": timezone.now()},
        language=language,
    )
    title = _title(rendered.html)
    assert title and title == rendered.subject.removeprefix(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)
    assert "because you have an account" in rendered.html or "car vous avez un compte" in rendered.html


def test_the_sign_up_confirmation_does_not_say_you_have_an_account():
    rendered = email_render(
        template="account/email/email_confirmation_signup",
        context={
            "user": UserFactory(),
            "activate_url": "https://portal.example/accounts/confirm-email/k/",
            "current_site": {"name": "CloudPortal", "domain": "portal.example"},
        },
        language="en",
    )
    assert _title(rendered.html)
    assert "because you have an account" not in rendered.html
    assert "this address was entered on" in rendered.html
