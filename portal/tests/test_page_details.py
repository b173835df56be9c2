"""Small things people noticed on the customer side: the navigation marks the current
section on allauth's pages too, allauth's headings are in sentence case, the ID-type
select has a real empty choice, the sign-up consent links to the statement, and on
/devices/ a form with errors shows next to the message that announces them."""

import re

import pytest
from django.utils import translation

from accounts.forms import ProfileForm
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.templatetags.portal import sentence_case
from devices.tests.factories import DeviceFactory
from policies.tests.factories import PublishedVersionFactory

pytestmark = pytest.mark.django_db


def _nav_link(body: str, label: str) -> str:
    """The main navigation's <a> tag whose text is `label`."""
    nav = body[body.index('<nav class="main-nav"') : body.index("</nav>")]
    return re.search(rf"<a [^>]*>{re.escape(label)}</a>", nav).group(0)


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/accounts/email/", 'aria-current="page"'),
        ("/accounts/password/change/", 'aria-current="true"'),
        ("/accounts/2fa/", 'aria-current="true"'),
        ("/accounts/sessions/", 'aria-current="true"'),
    ],
)
def test_the_account_section_is_current_on_allauth_pages(client, path, current):
    client.force_login(VerifiedUserFactory())
    body = client.get(path).content.decode()
    assert current in _nav_link(body, "Account")
    assert "aria-current" not in _nav_link(body, "Dashboard")


@pytest.mark.parametrize(
    ("path", "label"),
    [("/me/export/", "What we hold"), ("/devices/", "Devices")],
)
def test_a_page_under_a_section_marks_that_section(client, path, label):
    client.force_login(VerifiedUserFactory())
    link = _nav_link(client.get(path).content.decode(), label)
    assert 'aria-current="page"' in link if path == "/devices/" else 'aria-current="true"' in link


def test_the_dashboard_links_to_export_and_delete(client):
    client.force_login(VerifiedUserFactory())
    body = client.get("/").content.decode()
    assert 'href="/me/export/"' in body and 'href="/me/delete/"' in body


@pytest.mark.parametrize(
    ("path", "heading", "title"),
    [
        ("/accounts/login/", "<h1>Sign in</h1>", "<title>Sign in ·"),
        ("/accounts/password/reset/", "<h1>Password reset</h1>", "<title>Password reset ·"),
        ("/accounts/signup/", "<h1>Sign up</h1>", "<title>Signup ·"),
    ],
)
def test_allauth_headings_are_in_sentence_case(client, path, heading, title):
    body = client.get(path).content.decode()
    assert heading in body and title in body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Change Password", "Change password"),
        ("Enter Sign-In Code", "Enter sign-in code"),
        ("Activate Authenticator App", "Activate authenticator app"),
        ("Your IP Address at CloudPortal", "Your IP address at CloudPortal"),
        ("<span>Add</span> Email Address", "<span>Add</span> email address"),
    ],
)
def test_sentence_case_keeps_the_first_word_acronyms_and_names(text, expected):
    with translation.override("en"):
        assert sentence_case(text) == expected
    with translation.override("fr"):
        assert sentence_case(text) == text  # French headings are already in sentence case


def test_the_id_type_select_has_a_real_empty_choice():
    with translation.override("en"):
        select = str(ProfileForm()["id_document_type"])
    assert "---------" not in select
    assert '<option value="" selected>Not given</option>' in select


def test_the_sign_up_consent_links_to_the_statement(client):
    PublishedVersionFactory()
    body = client.get("/accounts/signup/").content.decode()
    assert "bottom of this page" not in body
    assert re.search(r'<a href="/privacy/" target="_blank" rel="noopener">the privacy statement</a>', body)


def test_a_device_form_with_errors_shows_above_the_long_table(client):
    customer = VerifiedUserFactory()
    for _ in range(12):
        DeviceFactory(user=customer)
    client.force_login(customer)
    body = client.post("/devices/", {"mac": "ff:ff:ff:ff:ff:ff", "label": ""}).content.decode()
    assert body.index("Nothing was saved") < body.index('id="add-device-title"') < body.index('id="devices-title"')
    assert body.index("errorlist") < body.index('id="devices-title"')
    # Without errors, the form comes after the list.
    body = client.get("/devices/").content.decode()
    assert body.index('id="devices-title"') < body.index('id="add-device-title"')
