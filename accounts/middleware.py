from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import translation


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
    data, delete the account or sign out (SPEC §3). Any other page sends them to
    the page that says so (403 for anything but GET and HEAD, which cannot be
    redirected without losing what was sent)."""

    #: (namespace, URL name) of the views a suspended customer may use.
    ALLOWED = frozenset(
        {
            ("me", "suspended"),
            ("me", "export"),
            ("me", "export_status"),
            ("me", "export_download"),
            ("me", "delete"),
            ("me", "delete_requested"),
            ("me", "delete_cancel"),
            ("", "account_logout"),
            ("", "account_reauthenticate"),
            ("", "account_login"),
            ("", "set_language"),
            ("", "healthz"),
        }
    )

    #: Paths open to them too: the privacy statement pages (accepting a new version
    #: among them, which the statement gate may ask first).
    OPEN_PREFIXES = ("/privacy/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.suspended_at is None:
            return self.get_response(request)
        if request.path.startswith(self.OPEN_PREFIXES):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if (match.namespace, match.url_name) in self.ALLOWED:
            return self.get_response(request)
        if request.method in ("GET", "HEAD"):
            return redirect("me:suspended")
        return render(request, "accounts/suspended.html", status=403)
