"""The Content-Security-Policy built once per process (cloudportal/core/csp.py) is
django-csp's own, follows the settings, and leaves a response's own policy alone."""

from __future__ import annotations

import pytest
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from cloudportal.core.csp import KeptPolicyCSPMiddleware

pytestmark = pytest.mark.django_db


def test_the_header_is_the_policy_django_csp_builds(client):
    response = client.get("/privacy/")
    assert response["Content-Security-Policy"] == build_policy()


def test_a_changed_setting_changes_the_header(client, settings):
    client.get("/privacy/")
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": ["'self'", "https://maps.example.net"]}
    settings.CONTENT_SECURITY_POLICY = policy
    assert "https://maps.example.net" in client.get("/privacy/")["Content-Security-Policy"]


def test_a_response_with_a_policy_of_its_own_keeps_it():
    middleware = KeptPolicyCSPMiddleware(lambda request: HttpResponse())
    response = HttpResponse("map")
    response._csp_update = {"img-src": ["https://maps.example.net"]}
    request = RequestFactory().get("/map/")
    middleware.process_request(request)
    answered = middleware.process_response(request, response)
    assert "https://maps.example.net" in answered["Content-Security-Policy"]
