import time
from unittest import mock

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import VerifiedUserFactory
from portal.views import error_500

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


@pytest.mark.django_db
def test_the_dashboard_shows_devices_and_recent_sessions_in_constant_queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accesslogs.tests.factories import CollectorFactory, sessions_record
    from devices.tests.factories import DeviceFactory

    customer = VerifiedUserFactory()
    client.force_login(customer)
    response = client.get("/")
    assert "Add your devices to see their network sessions." in response.text
    assert "No network session recorded for you yet." in response.text

    collector = CollectorFactory()

    def add_device(n):
        mac = f"00:1A:2B:00:00:0{n}"
        DeviceFactory(user=customer, mac=mac, label=f"Device {n}")
        sessions_record(collector, [{"mac": mac, "site": f"Site {n}"}, {"mac": mac}])

    add_device(0)
    with CaptureQueriesContext(connection) as one:
        client.get("/")
    for n in range(1, 5):
        add_device(n)
    with CaptureQueriesContext(connection) as five:
        response = client.get("/")
    page = response.text
    assert "5 devices on your account." in page
    assert "Device 3: 2 sessions" in page
    assert page.count(" at Site ") + page.count(" at Gare du Nord") == 3
    assert len(five) == len(one)


@pytest.mark.django_db
def test_sign_in_sessions_are_tracked_at_most_once_an_interval(client, settings):
    from allauth.usersessions.models import UserSession
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = VerifiedUserFactory()
    client.force_login(customer)
    client.get("/", HTTP_USER_AGENT="Browser/1")
    assert UserSession.objects.filter(user=customer).get().user_agent == "Browser/1"
    with CaptureQueriesContext(connection) as second:
        client.get("/", HTTP_USER_AGENT="Browser/2")
    writes = [q["sql"] for q in second.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert not any("usersessions_usersession" in sql for sql in writes)
    # The interval is over: the cache entry has expired, and the process's memory of it too.
    cache.clear()
    later = time.monotonic() + settings.USERSESSION_ACTIVITY_SECONDS + 1
    with mock.patch("cloudportal.core.middleware._clock", return_value=later):
        client.get("/", HTTP_USER_AGENT="Browser/3")
    assert UserSession.objects.filter(user=customer).get().user_agent == "Browser/3"
