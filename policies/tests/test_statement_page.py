"""/privacy/ from memory: a visitor's page costs no query once the process has it, and
it is always the statement in force, in the reader's language (publishing, or the
upcoming version taking effect, shows on the next request)."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.visitor_pages import visitor_pages_forget
from policies.selectors import statement_in_force, statement_state_refresh, statements_published
from policies.services import statement_publish
from policies.statement_page import statement_parts_forget

from .factories import DraftVersionFactory, PublishedVersionFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture(autouse=True)
def _forget():
    """The pages a previous test left in this process are not this test's."""
    visitor_pages_forget()
    statement_parts_forget()
    yield
    visitor_pages_forget()
    statement_parts_forget()


def _page(client, language="en", path=None) -> str:
    response = client.get(path or reverse("privacy"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _versions():
    v1 = PublishedVersionFactory(
        version="1.0", body="## Logs\n\nKept 12 months.", body_fr="## Journaux\n\nGardés 12 mois."
    )
    v2 = PublishedVersionFactory(
        version="2.0",
        body="## Logs\n\nKept 6 months.",
        body_fr="## Journaux\n\nGardés 6 mois.",
        effective_at=timezone.now() + timedelta(hours=1),
    )
    return v1, v2


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_visitor_s_page_costs_no_query_once_the_process_has_it(client, django_assert_num_queries, language):
    _versions()
    _page(client, language)
    with django_assert_num_queries(0):
        page = _page(client, language)
    assert ("Kept 12 months." if language == "en" else "Gardés 12 mois.") in page
    assert f'<html lang="{language}">' in page


def test_a_signed_in_customer_s_page_reads_no_version(client, django_assert_num_queries):
    _versions()
    client.force_login(VerifiedUserFactory())
    _page(client)
    with django_assert_num_queries(1):  # the customer, for the session's user
        page = _page(client)
    assert "Kept 12 months." in page and "Sign out" in page


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_page_from_memory_is_the_page_rendered_for_the_request(client, signed_in):
    """Against the template rendered as before (the versions read from the database),
    with a query string sent back by the language switch, escaped."""
    _versions()
    if signed_in:
        client.force_login(VerifiedUserFactory())
    path = reverse("privacy") + '?from=mail&x="<b>'
    for language in ("en", "fr", "en"):
        for _ in range(2):  # rendered, then from memory
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
            with translation.override(response["Content-Language"]):
                expected = render_to_string(
                    "policies/statement.html",
                    {
                        "version": statement_in_force(),
                        "upcoming": statements_published().filter(effective_at__gt=timezone.now()).last(),
                        "in_force": True,
                    },
                    response.wsgi_request,
                )
            page = response.content.decode()
            assert 'value="/privacy/?from=mail&amp;x=%22%3Cb%3E"' in page
            assert TOKEN.sub("", page) == TOKEN.sub("", expected)


def test_the_language_switch_of_the_page_from_memory_carries_a_valid_token(client):
    _versions()
    client.handler.enforce_csrf_checks = True
    _page(client)
    page = _page(client)
    token = TOKEN.search(page).group(0).split('value="')[1].rstrip('"')
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "/privacy/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert '<html lang="fr">' in _page(client, language="en")


def test_a_first_visits_token_goes_with_the_new_cookie_it_sets(client):
    """Without a CSRF cookie yet, the page makes a new secret (marked_pages.masked_token),
    sends it as the cookie, and its forms' token is that secret's."""
    _versions()
    client.handler.enforce_csrf_checks = True
    assert "csrftoken" not in client.cookies
    page = _page(client)
    assert client.cookies["csrftoken"].value
    token = TOKEN.search(page).group(0).split('value="')[1].rstrip('"')
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "/privacy/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_a_message_waiting_is_shown_once(client):
    _versions()
    client.force_login(VerifiedUserFactory())
    client.post(reverse("account_logout"))
    first, second = _page(client), _page(client)
    assert 'class="messages"' in first
    assert 'class="messages"' not in second and "Kept 12 months." in second


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_version_published_shows_at_once(client, django_capture_on_commit_callbacks, language):
    PublishedVersionFactory(version="1.0", body="Old words", body_fr="Anciens mots")
    customer = VerifiedUserFactory(language=language)
    signed_in = client.__class__()
    signed_in.force_login(customer)
    for c in (client, signed_in):
        assert ("Old words" if language == "en" else "Anciens mots") in _page(c, language)

    draft = DraftVersionFactory(version="1.1", body="New words", body_fr="Nouveaux mots", effective_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        statement_publish(version=draft)

    for c in (client, signed_in):
        page = _page(c, language)
        assert ("New words" if language == "en" else "Nouveaux mots") in page
        assert "Old words" not in page and "Anciens mots" not in page


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_upcoming_version_shows_from_its_effective_date(client, monkeypatch, language):
    _v1, v2 = _versions()
    statement_state_refresh()  # kept in the cache until after the effective date
    page = _page(client, language)
    assert ("Kept 12 months." if language == "en" else "Gardés 12 mois.") in page
    assert reverse("privacy_diff", args=["1.0", "2.0"]) in page

    later = v2.effective_at + timedelta(seconds=0.1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    page = _page(client, language)
    assert ("Kept 6 months." if language == "en" else "Gardés 6 mois.") in page
    assert "12" not in page.split('class="prose"')[1].split("</div>")[0]
    assert reverse("privacy_diff", args=["1.0", "2.0"]) not in page
