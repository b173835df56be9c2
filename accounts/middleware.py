from django.shortcuts import redirect, render
from django.utils import translation

from cloudportal.core.gates import STATEMENT_PAGES, WAYS_OUT, Gate


class UserLanguageMiddleware:
    """A signed-in customer's pages follow the language in their preferences."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SuspendedAccountMiddleware:
    """A customer suspended by staff may still sign in, but only to export their
    data, delete the account or sign out (SPEC §3), and read the privacy statement
    (accepting a new version among them, which the statement gate may ask first).
    Any other page sends them to the page that says so (403 for anything but GET and
    HEAD, which cannot be redirected without losing what was sent)."""

    GATE = Gate.letting_through(WAYS_OUT, STATEMENT_PAGES, {"account_login"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.suspended_at is None:
            return None
        if self.GATE.lets_through(request.resolver_match):
            return None
        if request.method in ("GET", "HEAD"):
            return redirect("me:suspended")
        return render(request, "accounts/suspended.html", status=403)
