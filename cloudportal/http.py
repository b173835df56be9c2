"""Small helpers about the HTTP request, for every app."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as allauth sees it, which is also what its rate limits
    count: REMOTE_ADDR, or the X-Forwarded-For entry of the configured proxies
    (ALLAUTH_TRUSTED_PROXY_COUNT, ALLAUTH_TRUSTED_CLIENT_IP_HEADER). None when it
    cannot be told (a missing or malformed header): nothing is recorded then."""
    try:
        return get_adapter(request).get_client_ip(request)
    except Exception:  # noqa: BLE001 - a missing or malformed header: no address recorded
        return None
