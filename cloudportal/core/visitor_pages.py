"""A page for visitors (nobody signed in) rendered once per process, then served
from memory with the parts that differ between requests put in.

What differs between two requests, and how it is put in, is in
`cloudportal.core.marked_pages`. A request with messages waiting, or from someone
signed in, is rendered as usual.

The key says everything else the page shows: the caller's key (the versions of
what it shows), plus the language, the current time zone and date (the footer's
year, dates) and the path. At most PAGES_KEPT pages are kept (then they are all
forgotten), and a changed setting forgets them (tests change OPERATOR_NAME, ...).
Only for templates whose request-dependent parts are those above: see
policies/tests/test_statement_page.py, which compares the kept page with the
page rendered as usual.
"""

from __future__ import annotations

from collections.abc import Hashable

from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation

from .marked_pages import Pieces, filled, messages_waiting, render_marked

#: Pages a process keeps at most.
PAGES_KEPT = 64

#: Key -> the page's pieces.
_pages: dict[tuple, Pieces] = {}


def visitor_page(request: HttpRequest, template_name: str, context: dict, *, key: Hashable) -> HttpResponse:
    """`render(request, template_name, context)`, from memory for a visitor."""
    user = getattr(request, "user", None)
    if (user is not None and user.is_authenticated) or messages_waiting(request):
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
        page = render_marked(request, template_name, context)
        if len(_pages) >= PAGES_KEPT:
            _pages.clear()
        _pages[full_key] = page
    return HttpResponse(filled(request, page))


def visitor_pages_forget(**kwargs) -> None:
    """Render every page again (a setting a page shows may have changed)."""
    _pages.clear()


setting_changed.connect(visitor_pages_forget)
