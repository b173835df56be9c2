"""Small helpers about the HTTP request, for every app."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class PasskeysUnavailable:
    """Why passkeys (WebAuthn) cannot work at the address the page was opened at,
    and where they would: `ip_address` (a browser takes a relying party only by
    name) or else `insecure` (plain HTTP, which only localhost may use)."""

    ip_address: bool
    #: The same page at an address where they work, when there is an obvious one.
    better_url: str | None


def passkeys_unavailable(request: HttpRequest) -> PasskeysUnavailable | None:
    """None where a browser can use passkeys for this portal: a host name (not an IP
    address) in a secure context (HTTPS, or localhost and its subdomains)."""
    host = request.get_host()
    parts = urlsplit(f"//{host}")
    name = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        local = address.is_loopback and f"{request.scheme}://localhost{port}{request.get_full_path()}"
        return PasskeysUnavailable(ip_address=True, better_url=local or None)
    if request.is_secure() or name == "localhost" or name.endswith(".localhost"):
        return None
    return PasskeysUnavailable(ip_address=False, better_url=f"https://{host}{request.get_full_path()}")
