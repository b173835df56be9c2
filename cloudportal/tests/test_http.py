"""The client's address: one helper, as allauth (and its rate limits) see it."""

from django.test import RequestFactory

from cloudportal.http import client_ip


def test_the_address_is_the_peer_s_without_trusted_proxies():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.23", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "198.51.100.23"


def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwarded(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 2001:db8::7")
    assert client_ip(request) == "2001:db8::7"


def test_an_address_that_cannot_be_told_is_none(settings):
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="not an address")) is None
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="2001:db8::7")) is None
