"""The CSRF token a kept page is filled with (cloudportal/core/marked_pages.py): what
Django's get_token gives, each request's mask its own."""

from __future__ import annotations

from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token
from django.test import RequestFactory

from cloudportal.core import marked_pages
from cloudportal.core.marked_pages import masked_token

SECRET = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def test_the_token_is_the_cookies_secret_under_a_new_mask_and_the_cookie_is_renewed():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = SECRET
    first, second = masked_token(request), masked_token(request)
    assert len(first) == 64 and set(first) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(first) == SECRET == _unmask_cipher_token(second)
    assert first[:32] != second[:32], "each token its own mask"
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_without_a_cookie_a_new_secret_is_made_and_sent():
    first, second = RequestFactory().get("/"), RequestFactory().get("/")
    token = masked_token(first)
    secret = first.META["CSRF_COOKIE"]
    assert len(secret) == 32 and set(secret) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert first.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    masked_token(second)
    assert second.META["CSRF_COOKIE"] != secret


def test_the_mask_is_drawn_evenly_from_the_alphabet(monkeypatch):
    """Each random byte below 248 (4 × 62) gives a character, the byte mod 62: every
    character the same 4 byte values; the bytes from 248 up are dropped."""
    draws = iter([bytes([247, 248, 255, 61, 62, 123, 124, *range(33)]), bytes(range(40))])
    monkeypatch.setattr(marked_pages.secrets, "token_bytes", lambda n: next(draws))
    assert marked_pages._mask()[:6] == [61, 61, 0, 61, 0, 0]
    assert marked_pages._BELOW == 248 and 248 % len(CSRF_ALLOWED_CHARS) == 0
