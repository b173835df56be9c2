"""A page for visitors (nobody signed in) rendered once per process, then served
from memory with the parts that differ between requests put in.

Under base.html a visitor's page differs between two requests only by the CSRF
token of the language switch and the path it sends back to (`next`, the full
path with its query string), and by the messages waiting in the session. The page
is rendered with a marker in place of the token and of the path, split at the
markers and kept; each request then joins the pieces with its own token and its
own path, escaped as the template would. A request with messages waiting, or
from someone signed in, is rendered as usual.

The key says everything else the page shows: the caller's key (the versions of
what it shows), plus the language, the current time zone and date (the footer's
year, dates) and the path. At most PAGES_KEPT pages are kept (then they are all
forgotten), and a changed setting forgets them (tests change OPERATOR_NAME, ...).
Only for templates whose request-dependent parts are those above: see
policies/tests/test_statement_page.py, which compares the kept page with the
page rendered as usual.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable

from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape

#: Pages a process keeps at most.
PAGES_KEPT = 64

_marker = secrets.token_hex(12)
CSRF_MARKER = f"csrf{_marker}"
PATH_MARKER = f"path{_marker}"

#: Key -> the page's pieces: text, then (token or path, text) pairs.
_pages: dict[tuple, tuple[str, tuple[tuple[bool, str], ...]]] = {}


class _RequestWithMarker:
    """The request as the template sees it, its full path a marker."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str):
        return getattr(self._request, name)

    def get_full_path(self) -> str:
        return PATH_MARKER


def _split(html: str) -> tuple[str, tuple[tuple[bool, str], ...]]:
    """`html` cut at the markers: the text before the first, then for each marker
    whether it is the token (else the path) and the text after it."""
    pieces = html.split(CSRF_MARKER)
    parts: list[tuple[bool, str]] = []
    head = ""
    for index, piece in enumerate(pieces):
        for position, text in enumerate(piece.split(PATH_MARKER)):
            if index == 0 and position == 0:
                head = text
            else:
                parts.append((position == 0, text))
    return head, tuple(parts)


def visitor_page(request: HttpRequest, template_name: str, context: dict, *, key: Hashable) -> HttpResponse:
    """`render(request, template_name, context)`, from memory for a visitor."""
    user = getattr(request, "user", None)
    if (user is not None and user.is_authenticated) or len(get_messages(request)):
        return render(request, template_name, context)
    full_key = (
        template_name,
        key,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate(),
        request.path,
    )
    page = _pages.get(full_key)
    if page is None:
        html = render_to_string(
            template_name,
            {**context, "csrf_token": CSRF_MARKER, "request": _RequestWithMarker(request), "messages": ()},
            request,
        )
        page = _split(html)
        if len(_pages) >= PAGES_KEPT:
            _pages.clear()
        _pages[full_key] = page
    head, parts = page
    token, path = get_token(request), escape(request.get_full_path())
    return HttpResponse("".join([head, *((token if is_token else path) + text for is_token, text in parts)]))


def visitor_pages_forget(**kwargs) -> None:
    """Render every page again (a setting a page shows may have changed)."""
    _pages.clear()


setting_changed.connect(visitor_pages_forget)
