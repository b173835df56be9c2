"""A customer's whole page kept in the cache (cloudportal/core/customer_pages.py) is the
page rendered as usual: the same HTML but for the CSRF token, with this request's
token (which the forms accept) and this request's path; never another customer's;
never kept with messages waiting or after a change."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core import customer_pages
from devices.tests.factories import mac_for

from .test_page_costs import customer_with

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

KEPT_PAGES = [
    "/",
    "/me/data/",
    "/devices/",
    "/logs/",
    "/logs/?device={device}&date_from=2020-01-01",
    "/me/activity/",
]


def without_tokens(html: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value="…"', html)


def rendered_as_usual(client, path: str, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(customer_pages, "messages_waiting", lambda request: True)
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("path", KEPT_PAGES)
def test_a_kept_page_is_the_page_rendered_as_usual(client, path, monkeypatch):
    user = customer_with(devices=2, sessions_each=3)
    client.force_login(user)
    path = path.format(device=user.devices.order_by("pk").first().pk)
    usual = rendered_as_usual(client, path, monkeypatch)
    built, kept = client.get(path), client.get(path)  # built and kept, then from the cache
    assert without_tokens(built.content.decode()) == without_tokens(usual)
    assert without_tokens(kept.content.decode()) == without_tokens(usual)
    assert "no-store" in kept["Cache-Control"]
    assert f'name="next" value="{path.replace("&", "&amp;")}"' in kept.content.decode()


def test_the_token_of_a_kept_page_is_the_requests_own_and_its_forms_accept_it():
    user = customer_with(devices=1, sessions_each=1)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(user)
    second.force_login(user)
    first.get("/")  # built and kept with the first browser's token put in
    page = second.get("/")  # from the cache: the second browser's own token
    token = TOKEN.search(page.content.decode()).group(1)
    switched = second.post(reverse("set_language"), {"language": "fr", "next": "/", "csrfmiddlewaretoken": token})
    assert switched.status_code == 302
    refused = second.post(reverse("set_language"), {"language": "fr", "next": "/", "csrfmiddlewaretoken": "x" * 64})
    assert refused.status_code == 403


def test_a_kept_page_is_never_another_customers(client):
    mine, theirs = VerifiedUserFactory(), customer_with(devices=1, sessions_each=1)
    client.force_login(theirs)
    assert "Device 1" in client.get("/devices/").content.decode()
    client.force_login(mine)
    assert "Device 1" not in client.get("/devices/").content.decode()


def test_a_page_with_messages_waiting_is_not_kept_and_the_next_one_has_none(client):
    client.force_login(customer_with(devices=0, sessions_each=0))
    client.get("/devices/")
    added = client.post("/devices/", {"mac": mac_for(7), "label": "Tablet"}, follow=True)
    assert "has been added" in added.content.decode() and "Tablet" in added.content.decode()
    again = client.get("/devices/").content.decode()
    assert "has been added" not in again and "Tablet" in again
