"""A signed-in customer's whole page kept in the cache (Redis, shared by every
process) while nothing it shows has changed, then served with this request's CSRF
token and path put in (`cloudportal.core.marked_pages`).

It is kept as `cloudportal.fragments.kept` keeps a part (under the customer's token
and everyone's, the release, the settings pages show, the language, the local date),
with the template, the path, the time zone and the caller's parts (a query string, a
page number, the statement state) in its key. A request with messages waiting is rendered as
usual; a page whose context raises (a 404, an invalid filter) is never kept.

Only for pages whose template shows nothing of the request but the user, the path,
the token and the full path, and whose context depends only on the customer's data
and the parts: see portal/tests/test_kept_pages.py, which compares each kept page
with the page rendered as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cloudportal.fragments import kept, pointer_key

from .marked_pages import filled, messages_waiting, render_marked


def customer_page(
    request: HttpRequest,
    template_name: str,
    context: Callable[[], dict],
    *,
    name: str,
    parts: Iterable[object] = (),
) -> HttpResponse:
    """`render(request, template_name, context())` for the signed-in customer, from
    the cache while nothing it shows has changed."""
    if messages_waiting(request):
        return render(request, template_name, context())
    page_parts = (template_name, request.path, timezone.get_current_timezone_name(), *parts)
    pieces = kept(
        f"page:{name}",
        user_id=request.user.pk,
        parts=page_parts,
        build=lambda: render_marked(request, template_name, context()),
        pointer=page_pointer(request, request.user.pk),
    )
    return HttpResponse(filled(request, pieces))


def page_pointer(request: HttpRequest, user_id: int | str) -> str:
    """The key naming where this request's page was last kept for the customer
    (`user_id` may be a placeholder): read with the session
    (accounts.middleware.SessionOwnerMiddleware), it brings the kept page with the
    request's first cache read."""
    return pointer_key("page", user_id=user_id, parts=(request.get_full_path(),))
