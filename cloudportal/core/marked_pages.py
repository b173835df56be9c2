"""A page rendered once with markers in place of what differs between two requests
of the same person, then filled in per request: the shared mechanics of
`visitor_pages` (a visitor's page kept per process) and `customer_pages` (a
customer's page kept in the cache).

Under base.html a page differs between two requests of the same person, once what it
shows is fixed, only by the CSRF token of its forms (the language switch, sign-out)
and by the path the language switch sends back to (`next`, the full path with its
query string); and by the messages waiting in the session, which are never kept (a
request with messages is rendered as usual). The page is rendered with a marker in
place of the token and of the path and cut at the markers; each request joins the
pieces with its own token and its own path, escaped as the template would.

The markers are random per process; what is kept is the pieces, never the markers.

The token is what Django's `get_token` gives (a new random mask over the secret of the
CSRF cookie, the cookie renewed), its mask drawn from one read of the system's
randomness instead of one for each of its 32 characters (`masked_token`; and so is a
new secret, for a visitor without the cookie yet): each a tenth of the time a kept
page takes otherwise.
"""

from __future__ import annotations

import secrets

from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.template.loader import render_to_string
from django.utils.html import escape

_marker = secrets.token_hex(12)
CSRF_MARKER = f"csrf{_marker}"
PATH_MARKER = f"path{_marker}"

#: A page's pieces: the text before the first marker, then for each marker whether
#: it is the token (else the path) and the text after it.
Pieces = tuple[str, tuple[tuple[bool, str], ...]]

_CHARS = CSRF_ALLOWED_CHARS
#: (a secret's character, a shift) -> the character that many places on, cyclically.
_SHIFTED = {
    (char, shift): _CHARS[(index + shift) % len(_CHARS)]
    for index, char in enumerate(_CHARS)
    for shift in range(len(_CHARS))
}
#: Random bytes below this are taken (mod the alphabet's length: without a bias).
_BELOW = 256 - 256 % len(_CHARS)


class _RequestWithMarker:
    """The request as the template sees it, its full path a marker."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str):
        return getattr(self._request, name)

    def get_full_path(self) -> str:
        return PATH_MARKER


def messages_waiting(request: HttpRequest) -> bool:
    return bool(len(get_messages(request)))


def render_marked(request: HttpRequest, template_name: str, context: dict) -> Pieces:
    """The page `render(request, template_name, context)` would give, without messages,
    cut at its token and its path."""
    html = render_to_string(
        template_name,
        {**context, "csrf_token": CSRF_MARKER, "request": _RequestWithMarker(request), "messages": ()},
        request,
    )
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


def filled(request: HttpRequest, pieces: Pieces) -> str:
    """The page for this request: its own token and path put in."""
    head, parts = pieces
    token, path = masked_token(request), escape(request.get_full_path())
    return "".join([head, *((token if is_token else path) + text for is_token, text in parts)])


def _mask() -> list[int]:
    mask: list[int] = []
    while len(mask) < CSRF_SECRET_LENGTH:
        mask += [byte % len(_CHARS) for byte in secrets.token_bytes(40) if byte < _BELOW]
    return mask[:CSRF_SECRET_LENGTH]


def masked_token(request: HttpRequest) -> str:
    """`django.middleware.csrf.get_token(request)`, faster: the request's CSRF secret
    (a new one, as Django makes it, when the request has no cookie yet) under a new
    mask (the mask, then each character of the secret shifted by the mask's), and the
    cookie marked to be sent (again: its expiry renewed)."""
    secret = request.META.get("CSRF_COOKIE")  # checked by CsrfViewMiddleware
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = "".join(map(_CHARS.__getitem__, _mask()))
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _mask()
    return "".join(map(_CHARS.__getitem__, mask)) + "".join(map(_SHIFTED.__getitem__, zip(secret, mask, strict=True)))
