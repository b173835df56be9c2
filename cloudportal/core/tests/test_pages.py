import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import VerifiedUserFactory
from cloudportal.core.views import error_500

pytestmark = pytest.mark.django_db


def test_signed_in_pages_are_never_cached(client):
    client.force_login(VerifiedUserFactory())
    for url in ("/", reverse("me:profile_edit"), reverse("me:data")):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control


def test_the_landing_page_is_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Your data, in your hands" in response.content.decode()
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_500_page_renders_without_a_database_or_a_user():
    response = error_500(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_unknown_pages_get_the_portal_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
